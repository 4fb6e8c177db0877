//! Hostile data: control, bidi and zero-width characters in runs are drawn visibly, and no raw ESC,
//! bidi or zero-width character ever reaches the screen buffer.

use crate::common;

use common::Harness;
use signoff::text::classify;

fn assert_buffer_is_clean(h: &Harness) {
    let terminal = h.render();
    for cell in terminal.backend().buffer().content() {
        for c in cell.symbol().chars() {
            assert!(classify(c).is_none(), "raw {:?} (U+{:04X}) reached the buffer", c, c as u32);
        }
    }
}

#[test]
fn hostile_runs_show_escapes_visibly_in_the_queue_and_the_run_view() {
    let mut h = Harness::new(120, 40);
    h.press("/");
    h.type_text("hostile");
    h.press("enter");
    assert_buffer_is_clean(&h);
    insta::assert_snapshot!("hostile_queue_120x40", h.render().backend());

    h.select("run-hostile-bidi-invoice-number");
    h.press("enter");
    assert_buffer_is_clean(&h);
    let screen = h.screen();
    assert!(screen.contains("⟨U+202E⟩"), "the bidi override is not shown:\n{screen}");
    insta::assert_snapshot!("hostile_bidi_run_120x40", h.render().backend());

    h.press("esc");
    h.select("run-hostile-ansi-vendor-name");
    h.press("enter");
    assert_buffer_is_clean(&h);
    let screen = h.screen();
    assert!(screen.contains("^["), "the ESC is not shown as ^[:\n{screen}");
    insta::assert_snapshot!("hostile_ansi_run_120x40", h.render().backend());

    h.press("esc");
    h.select("run-hostile-osc52-description");
    h.press("enter");
    assert_buffer_is_clean(&h);
    h.press("esc");
    h.select("run-hostile-zero-width-vendor-account");
    h.press("enter");
    assert_buffer_is_clean(&h);
    assert!(h.screen().contains("⟨U+200B⟩") || h.screen().contains("⟨U+200"), "zero-width not shown");
}
