// TRL-format datasets: standard and conversational, JSONL and JSONL.gz.
