"""Prints the golden TFRecord bytes TensorBoardEventsTests compares with: two events written by TensorBoard's own
RecordWriter (pip install tensorboard). Run: python3 Tests/RuntimeTests/Fixtures/tensorboard_golden.py"""
import io

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter


def record(event):
    buffer = io.BytesIO()
    RecordWriter(buffer).write(event.SerializeToString())
    return buffer.getvalue().hex()


print("version:", record(Event(wall_time=1.5, step=0, file_version="brain.Event:2")))
print("scalars:", record(Event(wall_time=1.5, step=3, summary=Summary(value=[
    Summary.Value(tag="train/loss", simple_value=0.25), Summary.Value(tag="eval/loss", simple_value=-1.0)]))))
