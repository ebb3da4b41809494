//! Quiz grading as a plain type: picks, immediate verdicts, the score and
//! "retry the wrong ones". The web page only renders a [`QuizRun`] and
//! forwards clicks and key presses to it.

use serde::{Deserialize, Serialize};

use crate::model::Quiz;

/// What a pick turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The right option.
    Correct,
    /// Any other option.
    Wrong,
}

/// Why a pick was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    /// No such question.
    #[error("question {0} does not exist")]
    NoQuestion(usize),
    /// No such option.
    #[error("question {question} has no option {choice}")]
    NoChoice {
        /// The question.
        question: usize,
        /// The option asked for.
        choice: usize,
    },
    /// The question was already answered in this round; answers are final
    /// until "retry the wrong ones" so the score means something.
    #[error("question {0} is already answered")]
    Locked(usize),
    /// The question is not part of the current retry round.
    #[error("question {0} is not in this round")]
    NotShown(usize),
    /// The question is graded from the learner's measurement, which is
    /// missing: resolve it first (see [`crate::Question::resolved`]).
    #[error("question {0} needs a measurement before it can be answered")]
    Unresolved(usize),
}

/// The score so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Questions answered right (in any round).
    pub correct: usize,
    /// Questions with an answer.
    pub answered: usize,
    /// Questions in the quiz.
    pub total: usize,
}

impl Score {
    /// Every question answered right.
    pub fn is_perfect(&self) -> bool {
        self.total > 0 && self.correct == self.total
    }
}

/// The state of one learner working through one quiz.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizRun {
    /// The right option of each question (copied from the quiz); `None` for
    /// an unresolved `from_run` question.
    key: Vec<Option<usize>>,
    /// Number of options of each question.
    sizes: Vec<usize>,
    /// The learner's pick per question.
    picks: Vec<Option<usize>>,
    /// Questions in the current round, in order: all of them at first, then
    /// only the ones retried.
    shown: Vec<usize>,
    /// 1 for the first pass, +1 for every "retry the wrong ones".
    round: u32,
}

impl QuizRun {
    /// A fresh run: nothing answered, every question shown, round 1. Build it
    /// from a [resolved](crate::Quiz::resolved) quiz so `from_run` questions
    /// can be graded; unresolved ones refuse picks.
    pub fn new(quiz: &Quiz) -> QuizRun {
        let n = quiz.questions.len();
        QuizRun {
            key: quiz.questions.iter().map(|q| q.answer).collect(),
            sizes: quiz.questions.iter().map(|q| q.choices.len()).collect(),
            picks: vec![None; n],
            shown: (0..n).collect(),
            round: 1,
        }
    }

    /// Rebuild a run from saved picks; anything that does not fit this quiz
    /// (wrong length, option out of range, unknown question, a pick on a
    /// question that is unresolved now) is dropped so a stale record can never
    /// panic the page and every pick has a verdict.
    pub fn restore(quiz: &Quiz, picks: &[Option<usize>], shown: &[usize], round: u32) -> QuizRun {
        let mut run = QuizRun::new(quiz);
        if picks.len() != run.key.len() {
            return run;
        }
        for (q, pick) in picks.iter().enumerate() {
            run.picks[q] = pick.filter(|&c| c < run.sizes[q] && run.key[q].is_some());
        }
        let mut kept: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&q| q < run.key.len())
            .collect();
        kept.dedup();
        if !kept.is_empty() {
            run.shown = kept;
        }
        run.round = round.max(1);
        run
    }

    /// Answer question `q` with option `choice`; the verdict is immediate.
    pub fn pick(&mut self, q: usize, choice: usize) -> Result<Verdict, PickError> {
        let size = *self.sizes.get(q).ok_or(PickError::NoQuestion(q))?;
        if choice >= size {
            return Err(PickError::NoChoice {
                question: q,
                choice,
            });
        }
        if !self.shown.contains(&q) {
            return Err(PickError::NotShown(q));
        }
        if self.picks[q].is_some() {
            return Err(PickError::Locked(q));
        }
        if self.key[q].is_none() {
            return Err(PickError::Unresolved(q));
        }
        self.picks[q] = Some(choice);
        Ok(self.verdict(q).expect("just picked"))
    }

    /// The option picked for question `q`, if any.
    pub fn picked(&self, q: usize) -> Option<usize> {
        self.picks.get(q).copied().flatten()
    }

    /// The verdict of question `q`, once answered (and resolved).
    pub fn verdict(&self, q: usize) -> Option<Verdict> {
        let pick = self.picked(q)?;
        let key = self.key[q]?;
        Some(if pick == key {
            Verdict::Correct
        } else {
            Verdict::Wrong
        })
    }

    /// The score over all questions.
    pub fn score(&self) -> Score {
        let correct = (0..self.key.len())
            .filter(|&q| self.verdict(q) == Some(Verdict::Correct))
            .count();
        let answered = self.picks.iter().filter(|p| p.is_some()).count();
        Score {
            correct,
            answered,
            total: self.key.len(),
        }
    }

    /// Questions answered wrongly, in order.
    pub fn wrong(&self) -> Vec<usize> {
        (0..self.key.len())
            .filter(|&q| self.verdict(q) == Some(Verdict::Wrong))
            .collect()
    }

    /// Questions of the current round.
    pub fn shown(&self) -> &[usize] {
        &self.shown
    }

    /// The current round (1 = first pass).
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Every question of the current round has an answer.
    pub fn round_finished(&self) -> bool {
        self.shown.iter().all(|&q| self.picks[q].is_some())
    }

    /// Questions of the current round still without an answer.
    pub fn remaining(&self) -> usize {
        self.shown
            .iter()
            .filter(|&&q| self.picks[q].is_none())
            .count()
    }

    /// Start a new round with only the wrongly answered questions, their
    /// answers cleared. Returns how many questions the round has; with no wrong
    /// answers nothing changes and 0 is returned.
    pub fn retry_wrong(&mut self) -> usize {
        let wrong = self.wrong();
        if wrong.is_empty() {
            return 0;
        }
        for &q in &wrong {
            self.picks[q] = None;
        }
        self.shown = wrong;
        self.round += 1;
        self.shown.len()
    }

    /// Forget everything: a fresh first round.
    pub fn reset(&mut self) {
        self.picks.iter_mut().for_each(|p| *p = None);
        self.shown = (0..self.key.len()).collect();
        self.round = 1;
    }

    /// The picks, for saving.
    pub fn picks(&self) -> &[Option<usize>] {
        &self.picks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::sample;

    fn run(n: usize) -> QuizRun {
        QuizRun::new(&sample(n).lessons[0].quiz)
    }

    #[test]
    fn right_and_wrong_picks_get_immediate_verdicts() {
        let mut r = run(3);
        assert_eq!(r.pick(0, 1), Ok(Verdict::Correct));
        assert_eq!(r.pick(1, 2), Ok(Verdict::Wrong));
        assert_eq!(
            r.score(),
            Score {
                correct: 1,
                answered: 2,
                total: 3
            }
        );
        assert_eq!(r.remaining(), 1);
        assert!(!r.round_finished());
        assert_eq!(r.pick(2, 0), Ok(Verdict::Wrong));
        assert!(r.round_finished());
        assert_eq!(r.wrong(), vec![1, 2]);
    }

    #[test]
    fn an_answer_is_final_within_a_round() {
        let mut r = run(2);
        r.pick(0, 0).unwrap();
        assert_eq!(r.pick(0, 1), Err(PickError::Locked(0)));
        assert_eq!(r.picked(0), Some(0));
    }

    #[test]
    fn out_of_range_picks_are_refused() {
        let mut r = run(2);
        assert_eq!(r.pick(5, 0), Err(PickError::NoQuestion(5)));
        assert_eq!(
            r.pick(0, 3),
            Err(PickError::NoChoice {
                question: 0,
                choice: 3
            })
        );
        assert_eq!(r.score().answered, 0);
    }

    #[test]
    fn retry_wrong_shows_only_wrong_ones_and_keeps_right_ones() {
        let mut r = run(3);
        r.pick(0, 1).unwrap();
        r.pick(1, 0).unwrap();
        r.pick(2, 2).unwrap();
        assert_eq!(r.retry_wrong(), 2);
        assert_eq!(r.shown(), &[1, 2]);
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.round(), 2);
        assert_eq!(
            r.score(),
            Score {
                correct: 1,
                answered: 1,
                total: 3
            }
        );
        // The right one stays locked and out of the round.
        assert_eq!(r.pick(0, 1), Err(PickError::NotShown(0)));
        r.pick(1, 1).unwrap();
        r.pick(2, 1).unwrap();
        assert!(r.score().is_perfect());
        assert_eq!(r.retry_wrong(), 0);
        assert_eq!(r.round(), 2);
    }

    #[test]
    fn reset_starts_over() {
        let mut r = run(2);
        r.pick(0, 0).unwrap();
        r.retry_wrong();
        r.reset();
        assert_eq!(r, run(2));
    }

    #[test]
    fn restore_drops_what_does_not_fit() {
        let quiz = &sample(3).lessons[0].quiz;
        let r = QuizRun::restore(quiz, &[Some(1), Some(9), None], &[0, 7, 2], 2);
        assert_eq!(r.picked(0), Some(1));
        assert_eq!(r.picked(1), None, "option 9 does not exist");
        assert_eq!(r.shown(), &[0, 2]);
        assert_eq!(r.round(), 2);
        // A record for a quiz of another length is ignored entirely.
        let r = QuizRun::restore(quiz, &[Some(1)], &[0], 3);
        assert_eq!(r, QuizRun::new(quiz));
    }
}
