"""The run's two pictures: loss and accuracy per epoch, and the wall time of each epoch with
the first epoch of every session in another colour (it pays for one-off work)."""

from __future__ import annotations

from pathlib import Path

from labkit.i18n import _

PLOT_NAMES = ("history.png", "epoch-times.png")


def write(results: dict, run_dir: Path) -> list[str]:
    """history.png and epoch-times.png in run_dir; the names, for results.json. Figures are
    made without pyplot, so a notebook's own plotting (its inline backend) stays untouched."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = results["epochs"]
    numbers = [record["epoch"] for record in epochs]
    figure = Figure(figsize=(10, 4), dpi=100)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, key, label in ((loss_axes, "loss", _("loss")), (accuracy_axes, "accuracy", _("accuracy"))):
        axes.plot(
            numbers, [record[key] for record in epochs], marker="o", label=_("training {what}").format(what=label)
        )
        validated = [record for record in epochs if record[f"val_{key}"] is not None]
        if validated:
            axes.plot(
                [record["epoch"] for record in validated],
                [record[f"val_{key}"] for record in validated],
                marker="s",
                label=_("validation {what}").format(what=label),
            )
        axes.set_xlabel(_("epoch"))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(_("{run} on {device}").format(run=results["run_name"], device=results.get("device") or "?"))
    figure.tight_layout()
    figure.savefig(run_dir / PLOT_NAMES[0])

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    colours = ["tab:orange" if record["first_in_session"] else "tab:blue" for record in epochs]
    axes.bar(numbers, [record["seconds"] for record in epochs], color=colours)
    steady = results["summary"].get("steady_epoch_seconds")
    if steady:
        axes.axhline(
            steady, color="tab:gray", linestyle="--", label=_("steady state: {seconds:.2f} s").format(seconds=steady)
        )
        axes.legend()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(_("epoch (orange: first of a session: tracing, compilation, cache fill)"))
    axes.set_ylabel(_("seconds"))
    axes.set_title(_("Epoch wall time"))
    figure.tight_layout()
    figure.savefig(run_dir / PLOT_NAMES[1])
    return list(PLOT_NAMES)
