"""Answers from the team's runbooks: sections of Markdown/text files (sections.py), tokenised for
English and Chinese (tokens.py), ranked by BM25 (index.py), re-read when the files change (library.py),
answered with quotes and links, or by an LLM citing them (answer.py, llm_answer.py)."""
