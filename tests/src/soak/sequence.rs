//! Checks the numbered notifications one client receives: strictly increasing over the whole
//! run (no repeats, no reordering), and without holes inside one connection.

/// The order check for one client.
///
/// The server numbers its notifications from one global counter and sends each to every open
/// connection, so one connection sees consecutive numbers. Across a reconnection numbers are
/// skipped (what was sent while the client was away), which is expected and not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SequenceCheck {
    /// The highest number seen so far.
    last: Option<u64>,
    /// The last number seen on the current connection, `None` right after a connection change.
    in_connection: Option<u64>,
    /// Notifications received.
    pub(crate) received: u64,
    /// Numbers seen again, or after a higher one.
    pub(crate) out_of_order: u64,
    /// Numbers skipped inside one connection.
    pub(crate) missing: u64,
    /// The first problems, for the report (capped).
    pub(crate) examples: Vec<String>,
}

/// How many problems are described in words.
const EXAMPLES: usize = 5;

impl SequenceCheck {
    /// The connection changed (it was lost, or a new one is being dialled): the next number
    /// may skip ahead.
    pub(crate) fn connection_changed(&mut self) {
        self.in_connection = None;
    }

    /// Notification `number` arrived.
    pub(crate) fn observe(&mut self, number: u64) {
        self.received += 1;
        if let Some(last) = self.last.filter(|last| number <= *last) {
            self.out_of_order += 1;
            self.example(format!("notification {number} arrived after {last}"));
            return;
        }
        if let Some(previous) = self.in_connection.filter(|previous| number > previous + 1) {
            self.missing += number - previous - 1;
            self.example(format!(
                "notifications {}..{number} missing inside one connection",
                previous + 1
            ));
        }
        self.last = Some(number);
        self.in_connection = Some(number);
    }

    fn example(&mut self, text: String) {
        if self.examples.len() < EXAMPLES {
            self.examples.push(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_numbers_pass() {
        let mut check = SequenceCheck::default();
        (5..10).for_each(|n| check.observe(n));
        assert_eq!((check.received, check.out_of_order, check.missing), (5, 0, 0));
    }

    #[test]
    fn a_gap_across_a_reconnection_is_expected() {
        let mut check = SequenceCheck::default();
        check.observe(1);
        check.connection_changed();
        check.observe(7);
        check.observe(8);
        assert_eq!((check.out_of_order, check.missing), (0, 0));
    }

    #[test]
    fn holes_repeats_and_reordering_are_counted() {
        let mut check = SequenceCheck::default();
        check.observe(1);
        check.observe(4);
        assert_eq!(check.missing, 2);
        check.observe(4);
        check.connection_changed();
        check.observe(3);
        assert_eq!(check.out_of_order, 2);
        assert_eq!(check.examples.len(), 3);
    }
}
