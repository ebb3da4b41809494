//! Keyboard handling of a quiz's radio group, as a pure function (WAI-ARIA
//! radio group pattern with a roving tabindex): arrow keys move the focus
//! and wrap around, Home/End jump, Space or Enter chooses the focused option.
//!
//! Unlike a form's radio buttons, arrows do not choose: choosing gives
//! immediate, final feedback, so it must be a deliberate key press.

/// What a key press does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Move the focus to this option.
    Focus(usize),
    /// Choose this option.
    Choose(usize),
}

/// The action for `key` (a `KeyboardEvent.key` value) when option `focused`
/// of `count` has the focus; `None` for keys the group leaves alone (Tab
/// must keep leaving the group).
pub fn radio_key(key: &str, focused: usize, count: usize) -> Option<KeyAction> {
    if count == 0 {
        return None;
    }
    let focused = focused.min(count - 1);
    Some(match key {
        "ArrowDown" | "ArrowRight" | "Down" | "Right" => KeyAction::Focus((focused + 1) % count),
        "ArrowUp" | "ArrowLeft" | "Up" | "Left" => KeyAction::Focus((focused + count - 1) % count),
        "Home" => KeyAction::Focus(0),
        "End" => KeyAction::Focus(count - 1),
        " " | "Spacebar" | "Enter" => KeyAction::Choose(focused),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyAction::*;

    #[test]
    fn arrows_move_and_wrap() {
        assert_eq!(radio_key("ArrowDown", 0, 4), Some(Focus(1)));
        assert_eq!(radio_key("ArrowRight", 3, 4), Some(Focus(0)));
        assert_eq!(radio_key("ArrowUp", 0, 4), Some(Focus(3)));
        assert_eq!(radio_key("ArrowLeft", 2, 4), Some(Focus(1)));
        assert_eq!(radio_key("Home", 2, 4), Some(Focus(0)));
        assert_eq!(radio_key("End", 0, 4), Some(Focus(3)));
    }

    #[test]
    fn space_and_enter_choose_the_focused_option() {
        assert_eq!(radio_key(" ", 2, 4), Some(Choose(2)));
        assert_eq!(radio_key("Enter", 1, 4), Some(Choose(1)));
    }

    #[test]
    fn other_keys_and_empty_groups_do_nothing() {
        assert_eq!(radio_key("Tab", 1, 4), None);
        assert_eq!(radio_key("a", 1, 4), None);
        assert_eq!(radio_key("ArrowDown", 0, 0), None);
    }

    #[test]
    fn a_stale_focus_index_is_clamped() {
        assert_eq!(radio_key("Enter", 9, 4), Some(Choose(3)));
        assert_eq!(radio_key("ArrowDown", 9, 4), Some(Focus(0)));
    }
}
