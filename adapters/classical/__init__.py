"""Weight-free classical methods: they run anywhere and give the harness real baselines."""
