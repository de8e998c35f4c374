"""Language and embedding models: local MiniLM or OpenAI embeddings; ChatOpenAI or the offline model."""
