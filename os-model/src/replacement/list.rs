//! A doubly linked list of frames threaded through per-frame arrays, shared by
//! FIFO and LRU: moving a frame to the back costs a few stores and never
//! allocates (the arrays grow only when a higher frame is first used).

use mmu_core::Ppn;

const NIL: u32 = u32::MAX;

/// Frames in arrival (FIFO) or recency (LRU) order, oldest at the front.
#[derive(Debug)]
pub struct FrameList {
    prev: Vec<u32>,
    next: Vec<u32>,
    linked: Vec<bool>,
    head: u32,
    tail: u32,
}

impl Default for FrameList {
    fn default() -> Self {
        Self { prev: Vec::new(), next: Vec::new(), linked: Vec::new(), head: NIL, tail: NIL }
    }
}

impl FrameList {
    fn ensure(&mut self, f: u32) {
        let need = f as usize + 1;
        if self.linked.len() < need {
            self.prev.resize(need, NIL);
            self.next.resize(need, NIL);
            self.linked.resize(need, false);
        }
    }
    /// Appends `frame` at the back.
    pub fn push_back(&mut self, frame: Ppn) {
        let f = frame.as_u32();
        self.ensure(f);
        debug_assert!(!self.linked[f as usize], "frame {f} linked twice");
        self.linked[f as usize] = true;
        self.prev[f as usize] = self.tail;
        self.next[f as usize] = NIL;
        if self.tail == NIL {
            self.head = f;
        } else {
            self.next[self.tail as usize] = f;
        }
        self.tail = f;
    }
    /// Unlinks `frame` (nothing if it is not linked).
    pub fn remove(&mut self, frame: Ppn) {
        let f = frame.as_u32();
        if !self.linked.get(f as usize).copied().unwrap_or(false) {
            return;
        }
        let (p, n) = (self.prev[f as usize], self.next[f as usize]);
        if p == NIL {
            self.head = n
        } else {
            self.next[p as usize] = n
        }
        if n == NIL {
            self.tail = p
        } else {
            self.prev[n as usize] = p
        }
        self.linked[f as usize] = false;
    }
    /// Moves a linked `frame` to the back.
    #[inline]
    pub fn move_to_back(&mut self, frame: Ppn) {
        let f = frame.as_u32();
        if self.tail == f || !self.linked.get(f as usize).copied().unwrap_or(false) {
            return;
        }
        self.remove(frame);
        self.push_back(frame);
    }
    /// The oldest frame.
    pub fn front(&self) -> Option<Ppn> {
        (self.head != NIL).then(|| Ppn::new(self.head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_list_orders_by_last_move() {
        let f = Ppn::new;
        let mut l = FrameList::default();
        for n in [3, 1, 2] {
            l.push_back(f(n));
        }
        assert_eq!(l.front(), Some(f(3)));
        l.move_to_back(f(3));
        assert_eq!(l.front(), Some(f(1)));
        l.remove(f(1));
        assert_eq!(l.front(), Some(f(2)));
        l.remove(f(2));
        l.remove(f(2));
        assert_eq!(l.front(), Some(f(3)));
        l.remove(f(3));
        assert_eq!(l.front(), None);
        l.push_back(f(7));
        assert_eq!(l.front(), Some(f(7)));
    }
}
