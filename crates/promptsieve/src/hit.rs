//! The leaf every matcher and detector shares: a raw hit and sets of hit
//! spans. It depends on nothing else in the crate, so detectors need not
//! import the engine that calls them.

/// A raw hit, with its span already in original-text bytes.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    pub(crate) rule: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) score: f64,
    pub(crate) detail: Option<String>,
}

/// Spans of hits, merged per rule into sorted disjoint intervals, for
/// "did the plain pass already find this rule here?" in logarithmic time
/// (a linear search per hit would make hostile inputs quadratic).
pub(crate) struct Spans(Vec<(u32, usize, usize)>);

impl Spans {
    pub(crate) fn new(it: impl Iterator<Item = (u32, usize, usize)>) -> Spans {
        let mut v: Vec<(u32, usize, usize)> = it.collect();
        v.sort_unstable();
        let mut merged: Vec<(u32, usize, usize)> = Vec::with_capacity(v.len());
        for (r, s, e) in v {
            match merged.last_mut() {
                Some(last) if last.0 == r && s <= last.2 => last.2 = last.2.max(e),
                _ => merged.push((r, s, e)),
            }
        }
        Spans(merged)
    }

    pub(crate) fn overlaps(&self, rule: u32, s: usize, e: usize) -> bool {
        // The last interval of `rule` starting before `e` is the only one
        // that can reach past `s`.
        let i = self.0.partition_point(|&(r, a, _)| (r, a) < (rule, e));
        i > 0 && self.0[i - 1].0 == rule && self.0[i - 1].2 > s
    }
}
