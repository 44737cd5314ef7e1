// Tokenizers from Hugging Face tokenizer.json files.
