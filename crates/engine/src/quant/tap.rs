//! A Linear layer that records the input of its latest call, so a figure can show what a
//! layer really saw during a forward pass. The output is the wrapped layer's, unchanged.

use std::sync::{Arc, Mutex};

use candle_core::Tensor;

use super::Linear;
use crate::error::CandleContext;
use crate::Result;

/// The input of one call: its shape and its values, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    /// The input's shape, e.g. `[1, tokens, in_features]`.
    pub dims: Vec<usize>,
    /// The input's values, row-major.
    pub values: Vec<f32>,
}

/// A Linear layer wrapped with a recorder shared with whoever built it.
#[derive(Clone, Debug)]
pub struct Tap {
    inner: Box<Linear>,
    seen: Arc<Mutex<Option<Recorded>>>,
}

impl Tap {
    /// Wraps `inner`; each forward replaces what `seen` holds with that call's input.
    pub fn new(inner: Linear, seen: Arc<Mutex<Option<Recorded>>>) -> Self {
        Self {
            inner: Box::new(inner),
            seen,
        }
    }

    /// The wrapped layer.
    pub fn inner(&self) -> &Linear {
        &self.inner
    }

    /// The same recorder around another layer.
    pub fn wrap(&self, inner: Linear) -> Self {
        Self::new(inner, self.seen.clone())
    }

    /// Records `x`, then forwards it through the wrapped layer.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let values = x
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .during("tap: input")?;
        let recorded = Recorded {
            dims: x.dims().to_vec(),
            values,
        };
        // A poisoned lock only means another recording panicked; the slot is still usable.
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(recorded);
        self.inner.forward(x)
    }
}
