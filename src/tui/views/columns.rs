//! Column widths sized to their content and to the terminal: every column starts at its widest value
//! (header included); when the row is too wide, columns give up room in a fixed order, each down to a
//! floor — so a wide terminal shows whole requesters instead of a 100-column target, and a narrow one
//! keeps the amount whole.

/// One column: the width its widest value needs, and the least it may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub natural: u16,
    pub floor: u16,
}

/// Widths for `columns` in `total` columns with `spacing` between them. `shrink` lists
/// `(column, floor)` steps taken in order while the row is too wide; a step never goes below the
/// column's own floor.
pub fn fit(columns: &[Column], shrink: &[(usize, u16)], total: u16, spacing: u16) -> Vec<u16> {
    let mut widths: Vec<u16> = columns.iter().map(|c| c.natural).collect();
    let needed = |w: &[u16]| w.iter().map(|x| *x as u32).sum::<u32>() + spacing as u32 * (w.len() as u32 - 1);
    for (i, step_floor) in shrink {
        let over = needed(&widths).saturating_sub(total as u32);
        if over == 0 {
            break;
        }
        let Some(w) = widths.get_mut(*i) else { continue };
        let floor = (*step_floor).max(columns[*i].floor);
        let give = (w.saturating_sub(floor) as u32).min(over) as u16;
        *w -= give;
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_their_natural_width_when_there_is_room_and_shrink_in_order_when_not() {
        let cols =
            [Column { natural: 10, floor: 4 }, Column { natural: 20, floor: 6 }, Column { natural: 8, floor: 8 }];
        assert_eq!(fit(&cols, &[(1, 10), (0, 4), (1, 6)], 80, 1), vec![10, 20, 8]);
        assert_eq!(fit(&cols, &[(1, 10), (0, 4), (1, 6)], 30, 1), vec![10, 10, 8]);
        assert_eq!(fit(&cols, &[(1, 10), (0, 4), (1, 6)], 26, 1), vec![6, 10, 8]);
        assert_eq!(fit(&cols, &[(1, 10), (0, 4), (1, 6)], 10, 1), vec![4, 6, 8], "never below a floor");
    }
}
