import itertools

from studio.calls.broker import CLUSTER_STEP, UNLEARNED_SPAN, ProvisioningEstimate, poll_offsets


def first(n, offsets):
    return [round(x, 3) for x in itertools.islice(offsets, n)]


def test_before_learning_the_broker_looks_every_tenth_of_a_second_from_about_half_a_second():
    estimate = ProvisioningEstimate()
    assert estimate.span()[:2] == UNLEARNED_SPAN
    assert first(4, poll_offsets(estimate.span())) == [0.45, 0.55, 0.65, 0.75]


def test_learned_span_clusters_looks_around_the_usual_ready_time():
    estimate = ProvisioningEstimate()
    for _ in range(5):
        estimate.observe(0.98, 1.02)  # READY between two close looks: the middle is kept
    low, high, step = estimate.span()
    assert (round(low, 3), round(high, 3), step) == (1.0, 1.0, CLUSTER_STEP)
    offsets = first(3, poll_offsets(estimate.span()))
    assert offsets[0] < 1.0 < offsets[1] and round(offsets[1] - offsets[0], 6) == CLUSTER_STEP


def test_a_ready_seen_late_pulls_the_next_cluster_earlier():
    estimate = ProvisioningEstimate()
    for _ in range(5):
        estimate.observe(None, 1.5)  # no close look before READY: assume it came just before
    assert estimate.span()[0] < 1.5


def test_after_the_span_looks_back_off_to_the_ceiling():
    offsets = list(itertools.islice(poll_offsets((1.0, 1.0, 0.05)), 40))
    gaps = [round(b - a, 3) for a, b in zip(offsets, offsets[1:])]
    assert gaps[0] == 0.05 and gaps[-1] == 2.0
    assert gaps == sorted(gaps)  # never speeds up again
