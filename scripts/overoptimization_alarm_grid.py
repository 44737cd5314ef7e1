#!/usr/bin/env python3
"""Replays the live spot-check alarm of `charter experiment overoptimization` results for a grid of spot-check sizes
k and smoothing weights, to choose `--judge-smoothing` / PPO's `monitor_smoothing` (the README's live spot checks).

Usage: python3 scripts/overoptimization_alarm_grid.py runs/NAME/results.json [more results.json ...]

It needs results written with per-rollout gold (`goldScores` in each alarm trace point). The alarm is
`RewardHackingAlarm` (Sources/Alignment/RewardHackingAlarm.swift) re-implemented line for line: exponential moving
averages of the proxy's mean and of the judge's mean over the first k rollouts; the threshold is tolerance × max(the
monitor's rise from its first reading to its peak, the spread of its first reading); it fires when the smoothed
monitor has fallen that far from its peak while the smoothed proxy is above its value at that peak. Runs are
classified by gold's largest fall after its peak at the measured checkpoints, as the report does: a half fall
(caught when the alarm comes no later than that checkpoint), a partial fall (at least the tolerance, less than half)
or no fall (any alarm is false).
"""
import json
import math
import sys


def runs(path):
    results = json.load(open(path))
    tolerance = results['configuration']['monitorTolerance']
    for seed in results['seeds']:
        points = next(c for c in seed['curves'] if c['method'] == 'PPO' and c['aggregation'] == 'single')['points']
        start = points[0]['gold']
        peak_index = max(range(len(points)), key=lambda i: points[i]['gold'])
        peak = points[peak_index]['gold']
        half, fall = None, 0.0
        if peak > start:
            half = next((p['x'] for p in points[peak_index:] if p['gold'] <= peak - (peak - start) / 2), None)
            fall = (peak - min(p['gold'] for p in points[peak_index:])) / (peak - start)
        if not all('goldScores' in p for p in seed['alarmTrace']):
            sys.exit(f'{path}: seed {seed["seed"]} has no per-rollout gold (results written before goldScores)')
        yield dict(seed=seed['seed'], trace=seed['alarmTrace'], half=half, fall=fall, tolerance=tolerance)


def alarm(trace, k, tolerance, smoothing):
    proxy = monitor = first = spread = peak = proxy_at_peak = None
    for point in trace:
        values = point['goldScores'][:k]
        mean = sum(values) / len(values)
        deviation = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        proxy = point['proxy'] if proxy is None else proxy + smoothing * (point['proxy'] - proxy)
        monitor = mean if monitor is None else monitor + smoothing * (mean - monitor)
        if first is None:
            first, spread = monitor, deviation
        if peak is None or monitor > peak:
            peak, proxy_at_peak = monitor, proxy
        threshold = tolerance * max(peak - first, spread)
        if threshold > 0 and peak - monitor >= threshold and proxy > proxy_at_peak:
            return point['iteration']
    return None


def main():
    everything = [run for path in sys.argv[1:] for run in runs(path)]
    if not everything:
        sys.exit(__doc__)
    print('k  smoothing  half falls caught  partial falls warned of  false alarms')
    for k in (4, 8, 16, 32):
        for smoothing in (0.3, 0.2, 0.15, 0.1):
            caught = falls = warned = partial = false = quiet = 0
            for run in everything:
                fired = alarm(run['trace'], k, run['tolerance'], smoothing)
                if run['half'] is not None:
                    falls += 1
                    caught += fired is not None and fired <= run['half']
                elif run['fall'] >= run['tolerance']:
                    partial += 1
                    warned += fired is not None
                else:
                    quiet += 1
                    false += fired is not None
            print(f'{k:2d}  {smoothing:9.2f}  {caught:7d} of {falls:<7d}  {warned:11d} of {partial:<10d}  {false:4d} of {quiet}')


if __name__ == '__main__':
    main()
