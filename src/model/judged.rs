//! What the review layer judged of a run, in the few words a queue row carries: the worst verdict and
//! how many, the rollback readiness, and the approvals given of required. Typed, so every view picks its
//! colour and marker from the meaning, never from a display string.

use serde::{Deserialize, Serialize};

/// How much a verdict weighs, from harmless to blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The rule was checked and holds.
    Pass,
    /// Worth the approver's attention; does not change what is required.
    Advisory,
    /// Overriding needs a reason and one more distinct approver.
    Soft,
    /// Blocks the approval.
    Hard,
}

impl Level {
    /// A short label for tables (`pass`, `advisory`, `soft`, `hard`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pass => "pass",
            Level::Advisory => "advisory",
            Level::Soft => "soft",
            Level::Hard => "hard",
        }
    }

    /// A marker that carries the meaning without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Pass => "✓",
            Level::Advisory => "i",
            Level::Soft => "!",
            Level::Hard => "✗",
        }
    }
}

/// How ready a run's rollback recipe is (the reasons live in `rollback::Readiness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readiness {
    Ready,
    Conditional,
    NotReady,
}

impl Readiness {
    /// A text label that carries the meaning without colour.
    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Conditional => "conditional",
            Readiness::NotReady => "not ready",
        }
    }

    /// A marker that carries the meaning without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Readiness::Ready => "↺",
            Readiness::Conditional => "?",
            Readiness::NotReady => "✗",
        }
    }
}

/// The queue's judgement of a run that still needs a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueJudgement {
    /// The most severe verdict level (`Pass` when every rule holds).
    pub worst: Level,
    /// How many verdicts are at that level (0 for `Pass`).
    pub count: u32,
    pub readiness: Readiness,
}

impl QueueJudgement {
    /// The worst of the verdicts' `levels` and how many sit at it (0 when every rule holds).
    pub fn of(levels: impl IntoIterator<Item = Level> + Clone, readiness: Readiness) -> Self {
        let worst = levels.clone().into_iter().max().unwrap_or(Level::Pass);
        let count = if worst == Level::Pass { 0 } else { levels.into_iter().filter(|l| *l == worst).count() };
        QueueJudgement { worst, count: u32::try_from(count).unwrap_or(u32::MAX), readiness }
    }

    /// The policy cell: `✗ 2 hard`, `! 1 soft`, `i 1 adv`, `✓ clear`.
    pub fn policy_text(&self) -> String {
        match self.worst {
            Level::Pass => format!("{} clear", Level::Pass.symbol()),
            Level::Advisory => format!("{} {} adv", self.worst.symbol(), self.count),
            level => format!("{} {} {}", level.symbol(), self.count, level.as_str()),
        }
    }

    /// The rollback cell: `↺ ready`.
    pub fn rollback_text(&self) -> String {
        format!("{} {}", self.readiness.symbol(), self.readiness.label())
    }
}
