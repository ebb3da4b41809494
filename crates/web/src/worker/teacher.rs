//! The lab's teacher, loaded on demand (the learner's files or a folder on the
//! server) and kept in the worker beside the current model: teacher vs student vs
//! quantized student on one sentence, with the MSE distillation loss of each pair.

use std::cell::RefCell;

use crate::engine::{metrics, Classifier, ModelFiles, Scheme};
use crate::lab::messages::{TeacherReady, TeacherRow, TeacherTable, UploadedModel};

use super::fetch;
use super::lab::{in_scheme, upload_files};
use super::models::Loaded;

thread_local! {
    static TEACHER: RefCell<Option<(TeacherReady, Classifier)>> = const { RefCell::new(None) };
}

/// Builds the teacher from the learner's files; the old one stays on `Err`.
pub fn load_files(upload: UploadedModel) -> Result<TeacherReady, String> {
    let source = format!("upload:{}", upload.name);
    let (files, _) = upload_files(upload);
    keep(source, &files)
}

/// Fetches the teacher under `base_url` with progress; the old one stays on `Err`.
pub async fn load_url(
    base_url: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<TeacherReady, String> {
    let held = TEACHER.with(|t| {
        t.borrow()
            .as_ref()
            .filter(|(ready, _)| ready.source == base_url)
            .map(|(ready, _)| ready.clone())
    });
    if let Some(ready) = held {
        return Ok(ready);
    }
    let (files, _) = fetch::model_folder(base_url, progress).await?;
    keep(base_url.to_string(), &files)
}

fn keep(source: String, files: &ModelFiles) -> Result<TeacherReady, String> {
    let model = Classifier::load(files).map_err(|e| format!("the teacher: {e}"))?;
    let info = model.info();
    let ready = TeacherReady {
        source,
        labels: model.labels().to_vec(),
        layers: info.layers,
        dim: info.dim,
        parameters: info.parameters,
        bytes: model.size().total_bytes,
    };
    TEACHER.with(|t| *t.borrow_mut() = Some((ready.clone(), model)));
    Ok(ready)
}

/// The teacher, the loaded model and that model in `scheme` on `text`. Each model
/// reads the text with its own tokenizer; the logits must have as many classes.
pub fn compare(loaded: &Loaded, text: &str, scheme: Scheme) -> Result<TeacherTable, String> {
    let Some(teacher) = TEACHER.with(|t| t.borrow().as_ref().map(|(_, m)| m.clone())) else {
        return Err("no teacher is loaded: load one first".to_string());
    };
    let student = loaded.f32();
    let (t_labels, s_labels) = (teacher.labels().len(), student.labels().len());
    if t_labels != s_labels {
        return Err(format!(
            "the teacher has {t_labels} classes and the student {s_labels}: their logits cannot be compared"
        ));
    }
    let quantized = in_scheme(loaded, scheme)?;
    let run = |model: &Classifier, role: &str| -> Result<TeacherRow, String> {
        let enc = model.encode(text).map_err(|e| e.to_string())?;
        Ok(TeacherRow {
            role: role.to_string(),
            prediction: model.predict(&enc).map_err(|e| e.to_string())?,
            bytes: model.size().total_bytes,
        })
    };
    let rows = vec![
        run(&teacher, "teacher")?,
        run(student, "student")?,
        run(&quantized, "quantized")?,
    ];
    let mse = |a: usize, b: usize| {
        metrics::mse(&rows[a].prediction.logits, &rows[b].prediction.logits)
            .map_err(|e| e.to_string())
    };
    Ok(TeacherTable {
        text: text.to_string(),
        scheme,
        labels: student.labels().to_vec(),
        mse_teacher_student: mse(0, 1)?,
        mse_teacher_quantized: mse(0, 2)?,
        mse_student_quantized: mse(1, 2)?,
        rows,
    })
}
