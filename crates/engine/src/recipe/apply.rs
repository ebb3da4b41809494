//! Building the mixed model a recipe describes.

use super::Recipe;
use crate::{Classifier, Error, QuantizeOptions, Result, Scheme};

impl Classifier {
    /// [`Classifier::apply_recipe`], with the word-embedding table then stored as
    /// `options` say (e.g. int8 per row), as [`Classifier::quantize_with`] does for a
    /// uniform scheme.
    pub fn apply_recipe_with(
        &self,
        recipe: &Recipe,
        options: QuantizeOptions,
    ) -> Result<Classifier> {
        self.apply_recipe(recipe)?
            .with_embeddings(options.embeddings)
    }

    /// The mixed model of `recipe`: each Linear in the recipe's scheme for it, from this
    /// f32 model. The recipe must name every Linear layer exactly once; an unknown,
    /// repeated or missing name, or a scheme a layer's width cannot take, is one error
    /// naming the layer (and listing the model's layers). Like
    /// [`Classifier::quantize_only`], the result reports [`Scheme::F32`] as its scheme;
    /// [`Classifier::linears`] shows each layer's.
    pub fn apply_recipe(&self, recipe: &Recipe) -> Result<Classifier> {
        if self.scheme() != Scheme::F32 {
            return Err(Error::AlreadyQuantized(self.scheme().name()));
        }
        let model_layers = self.linears();
        let known = model_layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for (i, step) in recipe.layers.iter().enumerate() {
            let Some(info) = model_layers.iter().find(|l| l.name == step.layer) else {
                return Err(Error::UnknownLayer {
                    given: step.layer.clone(),
                    known,
                });
            };
            if recipe.layers[..i].iter().any(|l| l.layer == step.layer) {
                return Err(Error::Recipe(format!(
                    "the recipe names layer `{}` twice",
                    step.layer
                )));
            }
            if let Some(why) = step.scheme.unfit_reason(info.in_features) {
                return Err(Error::Recipe(format!(
                    "layer `{}` cannot take {}: {why}",
                    step.layer, step.scheme
                )));
            }
        }
        if let Some(missing) = model_layers
            .iter()
            .find(|l| recipe.scheme_of(&l.name).is_none())
        {
            return Err(Error::Recipe(format!(
                "the recipe has no scheme for layer `{}`; the model has: {known}",
                missing.name
            )));
        }
        let mut mixed = self.clone();
        for step in &recipe.layers {
            if step.scheme != Scheme::F32 {
                mixed = mixed.quantize_only(&step.layer, step.scheme)?;
            }
        }
        Ok(mixed)
    }
}
