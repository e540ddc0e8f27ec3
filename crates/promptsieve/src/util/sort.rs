//! Stable sorting with little code. Each `sort_by`/`sort_by_key` call with
//! its own closure compiles its own copy of the standard library's sort,
//! 2–4 KB of WebAssembly each, and there were dozens. Here one merge sort
//! of indices is compiled once; a call site only adds its comparison and
//! the move of its elements into the sorted order.

use std::cmp::Ordering;

/// Sorts `v` by `key`, stably (like `slice::sort_by_key`).
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` by `cmp`, stably (like `slice::sort_by`).
pub(crate) fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order = permutation(v.len(), &|i, j| cmp(&v[i], &v[j]) == Ordering::Greater);
    // Position k takes the element now at order[k]: follow each cycle,
    // swapping, and mark what is done with order[k] = k.
    for start in 0..v.len() {
        let mut k = start;
        while order[k] != k {
            let from = std::mem::replace(&mut order[k], k);
            if from == start {
                break;
            }
            v.swap(k, from);
            k = from;
        }
    }
}

/// The indices `0..n` in sorted order, by a bottom-up merge sort (O(n log n),
/// stable: an element moves before an earlier one only if `after` says the
/// earlier one comes after it).
fn permutation(n: usize, after: &dyn Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut a: Vec<usize> = (0..n).collect();
    // Runs of 8 by insertion sort first: fewer passes, fewer comparisons.
    const RUN: usize = 8;
    for run in a.chunks_mut(RUN) {
        for k in 1..run.len() {
            let mut j = k;
            while j > 0 && after(run[j - 1], run[j]) {
                run.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    let mut b = vec![0usize; n];
    let mut width = RUN;
    while width < n {
        for (lo, out) in (0..n).step_by(2 * width).zip(b.chunks_mut(2 * width)) {
            let mid = (lo + width).min(n);
            let (left, right) = (&a[lo..mid], &a[mid..(lo + 2 * width).min(n)]);
            let (mut i, mut j) = (0, 0);
            for slot in out.iter_mut() {
                // The right run's head goes first only when strictly before.
                let take_right = j < right.len() && (i == left.len() || after(left[i], right[j]));
                if take_right {
                    *slot = right[j];
                    j += 1;
                } else {
                    *slot = left[i];
                    i += 1;
                }
            }
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_the_standard_stable_sort(v in proptest::collection::vec((0u8..6, any::<u16>()), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            let mut got = v.clone();
            super::sort_by_key(&mut got, |p| p.0);
            prop_assert_eq!(&got, &want);
            let mut want = v.clone();
            want.sort_by(|a, b| b.cmp(a));
            let mut got = v;
            super::sort_by(&mut got, |a, b| b.cmp(a));
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn moves_elements_without_clone() {
        let mut v: Vec<String> = ["pear", "fig", "apple", "kiwi", "date"].map(String::from).to_vec();
        super::sort_by_key(&mut v, String::len);
        assert_eq!(v, ["fig", "pear", "kiwi", "date", "apple"]);
    }
}
