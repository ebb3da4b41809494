//! Quantization schemes and the Linear layer that holds whichever one a model uses.
//!
//! A scheme is a value: the model asks each of its Linear layers to forward, and each
//! layer is f32 or quantized. Nothing else in the model knows which.

pub mod int8;

use std::fmt;
use std::str::FromStr;

use candle_core::{Module, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::CandleContext;
use crate::{Error, Result};

/// How a model's Linear weights are stored and multiplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Full precision: the model as trained.
    F32,
    /// PyTorch `quantize_dynamic(..., dtype=torch.qint8)`: one weight scale per tensor.
    Int8Dynamic,
    /// The same with `per_channel_dynamic_qconfig`: one weight scale per output row.
    Int8PerChannel,
}

impl Scheme {
    /// Every scheme, in the order tables show them.
    pub const ALL: &'static [Scheme] = &[Scheme::F32, Scheme::Int8Dynamic, Scheme::Int8PerChannel];

    /// The name used on the command line, in URLs and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::F32 => "f32",
            Scheme::Int8Dynamic => "int8-dynamic",
            Scheme::Int8PerChannel => "int8-per-channel",
        }
    }

    /// One line for a learner: what the scheme stores.
    pub fn description(self) -> &'static str {
        match self {
            Scheme::F32 => "32-bit floats, as trained",
            Scheme::Int8Dynamic => {
                "int8 weights, one scale per layer; activations quantized per call (PyTorch quantize_dynamic)"
            }
            Scheme::Int8PerChannel => {
                "int8 weights, one scale per output row; activations quantized per call"
            }
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Scheme::ALL
            .iter()
            .copied()
            .find(|scheme| scheme.name() == s)
            .ok_or_else(|| Error::UnknownScheme {
                given: s.to_string(),
                known: Scheme::ALL
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// A Linear layer `y = x Wᵀ + b` in one of the schemes.
#[derive(Clone, Debug)]
pub enum Linear {
    /// Float weights, multiplied by candle.
    F32(candle_nn::Linear),
    /// PyTorch-exact dynamic int8.
    Int8(int8::Int8Linear),
}

impl Linear {
    /// An f32 layer from its weight `[out, in]` and bias `[out]`.
    pub fn f32(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear::F32(candle_nn::Linear::new(weight, bias))
    }

    /// This layer in `scheme`. Only an f32 layer can be quantized.
    pub fn quantize(&self, scheme: Scheme) -> Result<Self> {
        let Linear::F32(float) = self else {
            return Err(Error::AlreadyQuantized(self.scheme().name()));
        };
        let granularity = match scheme {
            Scheme::F32 => return Ok(self.clone()),
            Scheme::Int8Dynamic => int8::Granularity::PerTensor,
            Scheme::Int8PerChannel => int8::Granularity::PerChannel,
        };
        let layer = int8::Int8Linear::from_tensors(float.weight(), float.bias(), granularity)?;
        Ok(Linear::Int8(layer))
    }

    /// The scheme this layer is stored in.
    pub fn scheme(&self) -> Scheme {
        match self {
            Linear::F32(_) => Scheme::F32,
            Linear::Int8(l) if l.scales().len() == 1 => Scheme::Int8Dynamic,
            Linear::Int8(_) => Scheme::Int8PerChannel,
        }
    }

    /// Bytes this layer takes as stored.
    pub fn stored_bytes(&self) -> u64 {
        match self {
            Linear::F32(l) => {
                let bias = l.bias().map_or(0, |b| b.elem_count());
                4 * (l.weight().elem_count() + bias) as u64
            }
            Linear::Int8(l) => l.stored_bytes(),
        }
    }

    /// Forward on `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::F32(l) => l.forward(x).during("linear"),
            Linear::Int8(l) => l.forward(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for &s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
        let err = "int4".parse::<Scheme>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown scheme `int4`; expected one of: f32, int8-dynamic, int8-per-channel"
        );
    }
}
