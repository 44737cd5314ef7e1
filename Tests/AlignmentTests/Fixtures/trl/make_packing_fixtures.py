"""TRL parity fixture for Charter's bfd and bfd_split packing (TRL 1.16's `trl.data_utils.pack_dataset`).

Run from the repository root (no model needed):

    python3 Tests/AlignmentTests/Fixtures/trl/make_packing_fixtures.py

Writes expected_packing.json: 1100 sequences of random lengths 0..20 (seeded; some empty, some longer than
max_length 16), sequence i holding ids i·32 + j so that every packed token names its source and offset, and TRL's
packed rows (input_ids, seq_lengths) for strategy bfd (overflow truncated) and bfd_split (overflow split into
pieces). 1100 > 1000 exercises the dataset map's batches: TRL packs each batch of 1000 examples on its own.
Labels are packed as input_ids are (the same column offsets), so ids alone pin the layout.
"""
import json
import os
import random

from datasets import Dataset
from trl.data_utils import pack_dataset

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LENGTH = 16


def main():
    generator = random.Random(37)
    lengths = [generator.randint(0, 20) for _ in range(1100)]
    sequences = [[index * 32 + offset for offset in range(length)] for index, length in enumerate(lengths)]
    dataset = Dataset.from_dict({"input_ids": sequences})
    expected = {"max_length": MAX_LENGTH, "lengths": lengths}
    for strategy in ["bfd", "bfd_split"]:
        packed = pack_dataset(dataset, MAX_LENGTH, strategy)
        expected[strategy] = {"input_ids": list(packed["input_ids"]), "seq_lengths": list(packed["seq_lengths"])}
    with open(os.path.join(HERE, "expected_packing.json"), "w") as file:
        json.dump(expected, file, separators=(",", ":"))
        file.write("\n")


if __name__ == "__main__":
    main()
