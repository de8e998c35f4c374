"""Plots of `orchestrator eval reuse`: the recall/precision trade-off per k, and learning over simulated days."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGET_PRECISION = 0.99
TARGET_RECALL = 0.50
TARGET_RECALL_AFTER_FEEDBACK = 0.70


def plot_tradeoff(rows: list[dict], ks: list[int], path: Path) -> None:
    """Precision against recall as the threshold moves, one panel per k, plain cosine beside the shipped method."""
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 4.2), sharey=True, squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        for method, color in (("cosine", "#d62728"), ("verified", "#1f77b4")):
            points = sorted((r for r in rows if r["k"] == k and r["method"] == method), key=lambda r: r["threshold"])
            ax.plot(
                [p["recall"] for p in points],
                [p["precision"] for p in points],
                marker="o",
                color=color,
                label="plain cosine" if method == "cosine" else "shipped (verified)",
            )
            for p in points:
                ax.annotate(
                    f"{p['threshold']:.2f}",
                    (p["recall"], p["precision"]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(3, 3),
                    color=color,
                )
        ax.axhline(TARGET_PRECISION, color="black", linestyle="--", linewidth=0.8)
        if k >= 10:
            ax.axvline(TARGET_RECALL, color="gray", linestyle=":", linewidth=0.8)
        ax.set_title(f"k = {k} stored phrasings")
        ax.set_xlabel("reuse recall")
        ax.set_xlim(0, 0.8)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("precision of served answers")
    axes[0][0].set_ylim(0.75, 1.005)
    axes[0][0].legend(loc="lower left", fontsize=8)
    fig.suptitle("CLINC150: reuse recall vs precision by similarity threshold (dashed: 0.99 target)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_feedback(days: list[dict], path: Path) -> None:
    """Recall and precision on the test split after each simulated day of feedback and creator links."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = [d["day"] for d in days]
    ax.plot(xs, [d["recall"] for d in days], marker=".", color="#2ca02c", label="reuse recall (shipped)")
    ax.plot(xs, [d["precision"] for d in days], marker=".", color="#1f77b4", label="precision (shipped)")
    ax.plot(xs, [d["cosine_recall"] for d in days], linestyle=":", color="#2ca02c", label="recall, cosine 0.85")
    ax.plot(xs, [d["cosine_precision"] for d in days], linestyle=":", color="#1f77b4", label="precision, cosine 0.85")
    ax.axhline(TARGET_PRECISION, color="black", linestyle="--", linewidth=0.8)
    ax.axhline(TARGET_RECALL_AFTER_FEEDBACK, color="gray", linestyle=":", linewidth=0.8)
    ax.set_xlabel("simulated day")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Feedback simulation: answers learn their questions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
