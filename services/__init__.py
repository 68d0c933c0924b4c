"""The reward services: one HTTP layer (`common`) and one scorer per reward."""
