"""The reports' plots, drawn from a summary's ``plot_data`` alone (so a merged summary
draws the same plots): where the insurance fund ended each sequence against its floor,
the amounts the waterfall moved by branch, and the campaign's speed and coverage over
time."""

from pathlib import Path

UNIT = 1e6  # collateral units per USDC


def draw(out: Path, data: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}

    def save(name: str, fig) -> None:
        fig.tight_layout()
        paths[name] = out / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 3.2))
    funds = [f / UNIT for f in data["sequence_funds"]]
    if funds:
        ax.hist(funds, bins=40, color="#4878a8")
    if data["insurance_floor"] is not None:
        floor = data["insurance_floor"] / UNIT
        ax.axvline(floor, color="#c03030", lw=1.2, label=f"insurance floor ({floor:,.0f})")
        ax.legend(fontsize=8)
    ax.set_xlabel("insurance fund at the end of a sequence (USDC)")
    ax.set_ylabel("sequences")
    ax.set_title(f"Insurance fund at sequence end ({len(funds):,} sequences)")
    save("fund", fig)

    fig, ax = plt.subplots(figsize=(9, 3.2))
    amounts = data["amounts"]
    names = list(amounts)
    values = [amounts[n] / UNIT for n in names]
    ax.barh(names, values, color="#4878a8")
    for y, value in enumerate(values):  # the figure itself: bars span orders of magnitude
        ax.text(value, y, f" {value:,.2f}", va="center", fontsize=7)
    ax.set_xscale("symlog", linthresh=1)
    ax.invert_yaxis()
    ax.set_xlabel("total moved over the campaign (USDC, logarithmic above 1)")
    ax.set_title("Solvency waterfall: amounts by branch")
    save("waterfall", fig)

    fig, ax = plt.subplots(figsize=(9, 3.2))
    for index, series in enumerate(data["throughput"]):
        rates, (t0, s0) = [], (series[0] if series else (0, 0))
        for t1, s1 in series[1:]:  # over windows of a second at least: samples are 25 steps
            if t1 - t0 >= 1.0:
                rates.append((t1, (s1 - s0) / (t1 - t0)))
                t0, s0 = t1, s1
        if rates:
            ax.plot([r[0] for r in rates], [r[1] for r in rates], lw=0.8, label=f"worker {index}")
    ax.set_xlabel("seconds since the first step")
    ax.set_ylabel("steps/s")
    ax.set_title("Steps per second over time (one line per worker)")
    save("throughput", fig)

    fig, axes = plt.subplots(1, 4, figsize=(12, 3.0))
    kinds = ("waterfall and trading branches", "rare states", "revert reasons", "entry points")
    for column, (ax, kind) in enumerate(zip(axes, kinds, strict=True), 1):
        for index, series in enumerate(data.get("reached", [])):
            if series:
                ax.step([r[0] for r in series], [r[column] for r in series], where="post",
                        lw=0.8, label=f"worker {index}")  # fmt: skip
        ax.set_title(kind, fontsize=9)
        ax.set_xlabel("seconds since the first step", fontsize=8)
    axes[0].set_ylabel("distinct reached")
    fig.suptitle("Coverage over time (one line per worker)", fontsize=10)
    save("reached", fig)
    return paths
