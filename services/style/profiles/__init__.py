"""Author profiles: windows sampled from the books, their embeddings cached, a direction per
author, and the policy's own stories as a contrast class."""
