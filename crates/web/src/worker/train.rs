//! Live distillation in the worker: the teacher's files (fetched once per folder) and the
//! [`Trainer`] the /train page drives chunk by chunk.

use crate::engine::dataset;
use crate::engine::distill::live::{LiveConfig, LiveEval, Sentences, Trainer};
use crate::engine::distill::pipeline::LABELS;
use crate::engine::distill::text::Labelled;
use crate::engine::{ModelFiles, Scheme};
use crate::figures::messages::SoftTargets;
use crate::lab::messages::OwnData;
use crate::lab::take_home::Download;
use crate::protocol::{TrainProgress, TrainReady};

use super::fetch;
use super::timing::now_ms;

/// Most steps in one chunk: a pause never waits longer than this many steps.
const MAX_CHUNK: u32 = 50;

/// The teacher's files and the run in progress.
#[derive(Default)]
pub struct Training {
    teacher: Option<(String, ModelFiles)>,
    trainer: Option<Trainer>,
    /// The learner's own sentences, once given (`TrainOwnData`).
    own: Vec<Labelled>,
}

impl Training {
    /// Fetches the teacher under `base_url` unless it is the one held, then cuts a new
    /// student (the old run is dropped).
    pub async fn start(
        &mut self,
        base_url: &str,
        config: LiveConfig,
        own_data: bool,
    ) -> Result<TrainReady, String> {
        self.trainer = None;
        if self.teacher.as_ref().map(|(url, _)| url.as_str()) != Some(base_url) {
            let (files, _) = fetch::model_folder(base_url, |_, _| {}).await?;
            self.teacher = Some((base_url.to_string(), files));
        }
        let Some((_, files)) = self.teacher.as_ref() else {
            return Err("the teacher did not load".into());
        };
        let start = now_ms();
        let sentences = if own_data {
            if self.own.is_empty() {
                return Err("give your sentences first (paste them or pick a file)".into());
            }
            Sentences::own(&self.own)
        } else {
            Sentences::built_in()
        }
        .map_err(|e| e.to_string())?;
        let mut trainer =
            Trainer::with_sentences(files, config, sentences).map_err(|e| e.to_string())?;
        let held_out_loss = trainer.measure_held_out().map_err(|e| e.to_string())?;
        let (train_sentences, held_out_sentences) = trainer.sentences();
        let ready = TrainReady {
            config: trainer.config(),
            parameters: trainer.shape().parameters(),
            teacher_parameters: trainer.teacher().info().parameters,
            train_sentences,
            held_out_sentences,
            held_out_loss,
            setup_ms: now_ms() - start,
        };
        self.trainer = Some(trainer);
        Ok(ready)
    }

    /// Teacher and student logits on `text`: this run's student, or — when no run was
    /// started — a student freshly cut (default settings) from the teacher at `base_url`.
    pub async fn soft_targets(
        &mut self,
        base_url: &str,
        text: String,
    ) -> Result<SoftTargets, String> {
        if self.trainer.is_none() {
            self.start(base_url, LiveConfig::default(), false).await?;
        }
        super::figures::soft_targets(self.trainer()?, text)
    }

    /// Reads the learner's labelled sentences (class names of the live student: NEGATIVE,
    /// POSITIVE, or ids) for the next [`Training::start`] with own data; a file that cannot
    /// be used keeps the sentences held before.
    pub fn own_data(&mut self, name: &str, bytes: &[u8]) -> Result<OwnData, String> {
        let labels: Vec<String> = LABELS.iter().map(|l| l.to_string()).collect();
        let set = dataset::parse_labelled(name, bytes, &labels)?;
        let data = OwnData::of(&set, &labels);
        self.own = set
            .rows
            .into_iter()
            .map(|r| Labelled {
                label: r.label,
                text: r.text,
            })
            .collect();
        Ok(data)
    }

    /// The student (now, or at its best held-out step) as a Hugging Face folder zip.
    pub fn download(&mut self, best: bool) -> Result<Download, String> {
        let trainer = self.trainer()?;
        let (student, step) = if best {
            let step = trainer.best_step().map_or(trainer.steps(), |(s, _)| s);
            (trainer.best_student(), step)
        } else {
            (trainer.student(), trainer.steps())
        };
        let student = student.map_err(|e| e.to_string())?;
        super::take_home::student_download(
            &student,
            &trainer.tokenizer_file(),
            &format!("student-step-{step}"),
        )
    }

    fn trainer(&mut self) -> Result<&mut Trainer, String> {
        self.trainer
            .as_mut()
            .ok_or_else(|| "no student is being trained: press Start first".to_string())
    }

    /// Takes `steps` steps (at most [`MAX_CHUNK`]) and, when asked, the held-out loss.
    pub fn steps(&mut self, steps: u32, held_out: bool) -> Result<TrainProgress, String> {
        let trainer = self.trainer()?;
        let start = now_ms();
        let losses = (0..steps.clamp(1, MAX_CHUNK))
            .map(|_| trainer.step())
            .collect::<Result<Vec<f64>, _>>()
            .map_err(|e| e.to_string())?;
        let ms = now_ms() - start;
        let held_out_loss = if held_out {
            Some(trainer.measure_held_out().map_err(|e| e.to_string())?)
        } else {
            None
        };
        Ok(TrainProgress {
            losses,
            step: trainer.steps(),
            held_out_loss,
            best: trainer.best_step(),
            ms,
        })
    }

    /// Teacher, student (as it stands, or at its best step) and quantized student on the
    /// held-out sentences.
    pub fn evaluate(&mut self, scheme: Scheme, best: bool) -> Result<LiveEval, String> {
        let trainer = self.trainer()?;
        let eval = if best {
            trainer.evaluate_best(scheme)
        } else {
            trainer.evaluate(scheme)
        };
        eval.map_err(|e| e.to_string())
    }
}
