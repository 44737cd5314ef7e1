// TRL-format datasets.
