"""Evaluation: generate stories for held-out prompts with one or two models, score every story
with the three reward services and an independent stylometric measure, and compare.

    stylegrpo eval --prompts data/grpo-prompts --model embedded:smollm2-135m-instruct \\
        --model2 runs/grpo-twain/final --books ../shared/corpus/books --out runs/eval
"""
