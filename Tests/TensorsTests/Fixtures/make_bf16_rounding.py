#!/usr/bin/env python3
"""Prints the float32 → bfloat16 roundings that MatmulPrecisionTests.testRoundingMatchesTorch checks, as PyTorch does
them (`tensor.to(torch.bfloat16)`, round to nearest, ties to even, subnormals kept). Each line is
`(input bits, rounded bits)`, the rounded bf16 widened back to float32 bits; paste the output into the test.

    python3 Tests/TensorsTests/Fixtures/make_bf16_rounding.py
"""
import torch

INPUTS = [
    0x3F800000,  # 1.0, exact
    0x3F808000,  # 1 + 2^-8: a tie between 1.0 and 1.0078125, goes to the even 1.0
    0x3F818000,  # a tie whose lower neighbour is odd: rounds up to the even 1.015625
    0x3F808001,  # just above the tie: up
    0x3F807FFF,  # just below the tie: down
    0xBF808000,  # negative tie
    0x80000000,  # -0
    0x00000001,  # smallest subnormal: to +0
    0x00008000,  # subnormal tie, even neighbour 0
    0x00018000,  # subnormal tie, odd lower neighbour: up to 0x0002
    0x007FFFFF,  # largest subnormal: up to the smallest normal bf16
    0x7F7FFFFF,  # largest float: past the largest bf16, to infinity
    0x7F7F7FFF,  # the largest bf16 plus less than half an ulp: stays
    0x7F800000,  # +infinity
    0xFF800000,  # -infinity
    0x3DCCCCCD,  # 0.1
    0xC2F6E979,  # -123.456
]

values = torch.tensor(INPUTS, dtype=torch.int64).to(torch.int32).view(torch.float32)
rounded = values.to(torch.bfloat16).to(torch.float32).view(torch.int32)
for source, result in zip(INPUTS, rounded.tolist()):
    print(f"(0x{source:08X}, 0x{result & 0xFFFFFFFF:08X}),")
# NaN: any NaN stays a NaN (PyTorch's scalar and vector conversions choose different NaN bits).
nan = torch.tensor([float("nan")]).to(torch.bfloat16).to(torch.float32)
assert torch.isnan(nan).all()
