//! The student's starting point, cut out of the teacher (structured pruning, as in
//! "Compact Language Models via Pruning and Knowledge Distillation", Muralidharan et al.
//! 2024, <https://arxiv.org/abs/2407.14679>): keep some of the teacher's layers (DistilBERT
//! itself started from every other layer of BERT), and inside them the hidden dimensions,
//! attention heads and feed-forward units that matter most on real text, measured by
//! [`Importance`]. Every student weight is a sub-matrix of a teacher weight, so the student
//! starts out computing a rough copy of the teacher instead of noise.

use candle_core::Tensor;

use super::net::{Importance, Net, Shape};
use super::vocab::PrunedVocab;
use super::{CandleContext, Error, Result};

/// What to keep of the teacher.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Teacher hidden dimensions kept, ascending.
    pub dims: Vec<u32>,
    /// Per student layer: the teacher layer it comes from.
    pub layers: Vec<usize>,
    /// Per student layer: the teacher heads kept, ascending.
    pub heads: Vec<Vec<u32>>,
    /// Per student layer: the teacher feed-forward units kept, ascending.
    pub neurons: Vec<Vec<u32>>,
    /// `pre_classifier` units kept, ascending.
    pub pre_classifier: Vec<u32>,
}

/// The `k` indices with the largest scores, in ascending index order.
pub fn top_k(scores: &[f64], k: usize) -> Vec<u32> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut keep: Vec<u32> = order.into_iter().take(k).map(|i| i as u32).collect();
    keep.sort_unstable();
    keep
}

impl Selection {
    /// Chooses the most important units of `teacher` for a student of shape `student`
    /// whose layer `i` starts from teacher layer `layers[i]`.
    pub fn choose(
        teacher: Shape,
        importance: &Importance,
        student: Shape,
        layers: &[usize],
    ) -> Result<Self> {
        if student.head_dim() != teacher.head_dim() {
            return Err(Error::Data(format!(
                "student heads of width {} cannot be cut from teacher heads of width {}",
                student.head_dim(),
                teacher.head_dim()
            )));
        }
        if student.dim > teacher.dim
            || student.heads > teacher.heads
            || student.hidden > teacher.hidden
            || student.positions > teacher.positions
            || student.labels != teacher.labels
        {
            return Err(Error::Data(format!(
                "a student of shape {student:?} is not a part of a teacher of shape {teacher:?}"
            )));
        }
        if layers.len() != student.layers || layers.iter().any(|&l| l >= teacher.layers) {
            return Err(Error::Data(format!(
                "layer map {layers:?} does not give {} teacher layers below {}",
                student.layers, teacher.layers
            )));
        }
        if importance.dims.len() != teacher.dim {
            return Err(Error::Data(
                "importance was not measured on this teacher".into(),
            ));
        }
        Ok(Self {
            dims: top_k(&importance.dims, student.dim),
            heads: layers
                .iter()
                .map(|&l| top_k(&importance.heads[l], student.heads))
                .collect(),
            neurons: layers
                .iter()
                .map(|&l| top_k(&importance.neurons[l], student.hidden))
                .collect(),
            pre_classifier: top_k(&importance.pre_classifier, student.dim),
            layers: layers.to_vec(),
        })
    }
}

/// Builds the student: every tensor a sub-matrix of the teacher's, with embedding rows
/// for the pruned vocabulary.
pub fn cut_student(
    teacher: &Net,
    sel: &Selection,
    vocab: &PrunedVocab,
    student: Shape,
) -> Result<Net> {
    if vocab.len() != student.vocab {
        return Err(Error::Data(format!(
            "the vocabulary has {} tokens but the student has {} rows",
            vocab.len(),
            student.vocab
        )));
    }
    let device = teacher.tensor("classifier.weight")?.device().clone();
    let index = |v: &[u32]| Tensor::new(v, &device).during("prune: index");
    let dims = index(&sel.dims)?;
    let pre = index(&sel.pre_classifier)?;
    let rows = index(&vocab.teacher_ids)?;
    let positions: Vec<u32> = (0..student.positions as u32).collect();
    let positions = index(&positions)?;
    let hd = teacher.shape().head_dim() as u32;
    let pick = |t: &Tensor, r: Option<&Tensor>, c: Option<&Tensor>| -> Result<Tensor> {
        let t = match r {
            Some(r) => t.index_select(r, 0).during("prune: rows")?,
            None => t.clone(),
        };
        match c {
            Some(c) => t.index_select(c, 1).during("prune: columns"),
            None => Ok(t),
        }
    };
    Net::from_tensors(student, teacher.eps(), |name, _| {
        let t = teacher.tensor(name_in_teacher(name, sel)?.as_str())?;
        if let Some(rest) = name.strip_prefix("transformer.layer.") {
            let (i, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let i: usize = i
                .parse()
                .map_err(|_| Error::Data(format!("bad name `{name}`")))?;
            let head_cols: Vec<u32> = sel.heads[i]
                .iter()
                .flat_map(|&h| h * hd..(h + 1) * hd)
                .collect();
            let head_cols = index(&head_cols)?;
            let units = index(&sel.neurons[i])?;
            return match tail {
                "attention.q_lin.weight" | "attention.k_lin.weight" | "attention.v_lin.weight" => {
                    pick(&t, Some(&head_cols), Some(&dims))
                }
                "attention.q_lin.bias" | "attention.k_lin.bias" | "attention.v_lin.bias" => {
                    pick(&t, Some(&head_cols), None)
                }
                "attention.out_lin.weight" => pick(&t, Some(&dims), Some(&head_cols)),
                "ffn.lin1.weight" => pick(&t, Some(&units), Some(&dims)),
                "ffn.lin1.bias" => pick(&t, Some(&units), None),
                "ffn.lin2.weight" => pick(&t, Some(&dims), Some(&units)),
                // Biases of the residual stream and LayerNorm parameters.
                _ => pick(&t, Some(&dims), None),
            };
        }
        match name {
            "embeddings.word_embeddings.weight" => pick(&t, Some(&rows), Some(&dims)),
            "embeddings.position_embeddings.weight" => pick(&t, Some(&positions), Some(&dims)),
            "pre_classifier.weight" => pick(&t, Some(&pre), Some(&dims)),
            "pre_classifier.bias" => pick(&t, Some(&pre), None),
            "classifier.weight" => pick(&t, None, Some(&pre)),
            "classifier.bias" => Ok(t),
            _ => pick(&t, Some(&dims), None),
        }
    })
}

/// Student layer `i` reads teacher layer `sel.layers[i]`.
fn name_in_teacher(name: &str, sel: &Selection) -> Result<String> {
    match name.strip_prefix("transformer.layer.") {
        Some(rest) => {
            let (i, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let i: usize = i
                .parse()
                .map_err(|_| Error::Data(format!("bad name `{name}`")))?;
            Ok(format!("transformer.layer.{}.{tail}", sel.layers[i]))
        }
        None => Ok(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_takes_the_largest_and_keeps_index_order() {
        assert_eq!(top_k(&[0.1, 5.0, 3.0, 5.0, -1.0], 3), [1, 2, 3]);
        assert_eq!(top_k(&[1.0, 1.0, 1.0], 2), [0, 1]);
    }
}
