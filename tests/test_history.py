"""The imputed history of the first term (docs/model.md, "History before the run")."""

import numpy as np
from conftest import tiny_scenario
from scipy import stats

from sim.experiment.tasks import run_experiment
from sim.model.renewals import poisson_quantile


def test_poisson_quantile_is_the_inverse_cdf():
    for mean in (0.0, 0.3, 1.0, 4.5):
        for u in (0.001, 0.2, 0.5, 0.9, 0.999):
            assert poisson_quantile(u, mean) == int(stats.poisson.ppf(u, mean))


def test_poisson_quantile_is_monotone_in_the_mean():
    # the same uniform under every scheme: a scheme with more bad experiences never draws fewer
    for u in np.linspace(0.01, 0.99, 25):
        ks = [poisson_quantile(float(u), m) for m in np.linspace(0.0, 5.0, 51)]
        assert ks == sorted(ks)


def _retention(impute: bool) -> np.ndarray:
    sc = tiny_scenario(
        {"customers": {"impute_history": impute}, "horizon_days": 300, "warmup_days": 30}
    )
    runs = run_experiment(sc, replications=3).runs
    return runs.set_index(["scheme", "replication"])["retention_rate"]


def test_imputed_history_lowers_retention_of_early_renewals():
    with_history, without = _retention(True), _retention(False)
    # accounts judged on a full term of experiences churn more, in every run
    assert (with_history < without).all()
