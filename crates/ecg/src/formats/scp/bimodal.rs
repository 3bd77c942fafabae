//! SCP-ECG bimodal compression, rebuilt at the full rate.

use super::{Bytes, Unreadable, problem};

/// Bimodal compression: outside the protected zones around each QRS (section 4) the device
/// kept one value per `factor` samples, the factor being the ratio of the rhythm's sample
/// interval to the reference beat's (section 5); inside them every sample. A stretch of
/// `n` unprotected samples holds `n / factor` decimated values and then its last
/// `n % factor` samples as they were. Reading puts each decimated value at the centre of
/// its block, joins the centres by straight lines, and smooths the rebuilt stretches with a
/// three-sample mean, as the standard's reference decoder does.
pub(super) struct Bimodal {
    factor: usize,
    pub(super) full_interval_us: u16,
    /// Protected zones as 0-based sample ranges, in order, within the record.
    zones: Vec<std::ops::Range<usize>>,
    count: usize,
}

impl Bimodal {
    pub(super) fn of<'a>(
        section: &impl Fn(u16) -> Option<&'a [u8]>,
        count: usize,
        rhythm_interval_us: u16,
    ) -> Result<Bimodal, Unreadable> {
        let full_interval_us = section(5)
            .map(|s5| Bytes(s5).u16(2))
            .transpose()?
            .filter(|interval| *interval > 0)
            .ok_or_else(|| {
                problem("bimodal compression without a reference beat (section 5) to give the full sampling rate")
            })?;
        if rhythm_interval_us == 0 || !rhythm_interval_us.is_multiple_of(full_interval_us) {
            return Err(problem(
                "bimodal compression whose rhythm interval is not a whole multiple of the reference beat's",
            ));
        }
        let factor = usize::from(rhythm_interval_us / full_interval_us);
        let s4 = Bytes(section(4).ok_or_else(|| {
            problem("bimodal compression without its protected zones (section 4)")
        })?);
        let complexes = usize::from(s4.u16(4)?);
        let mut zones = Vec::with_capacity(complexes);
        let mut end = 0;
        for q in 0..complexes {
            let at = 6 + 14 * complexes + 8 * q;
            let (start, last) = (s4.u32(at)? as usize, s4.u32(at + 4)? as usize);
            if start == 0 || last < start || start <= end || last > count {
                return Err(problem(
                    "section 4's protected zones are out of order or outside the record",
                ));
            }
            zones.push(start - 1..last);
            end = last;
        }
        Ok(Bimodal {
            factor,
            full_interval_us,
            zones,
            count,
        })
    }

    /// The unprotected stretches and the protected zones, in order: `(range, protected)`.
    fn stretches(&self) -> Vec<(std::ops::Range<usize>, bool)> {
        let mut stretches = Vec::with_capacity(2 * self.zones.len() + 1);
        let mut at = 0;
        for zone in &self.zones {
            stretches.push((at..zone.start, false));
            stretches.push((zone.clone(), true));
            at = zone.end;
        }
        stretches.push((at..self.count, false));
        stretches
    }

    pub(super) fn stored_samples(&self) -> usize {
        self.stretches()
            .into_iter()
            .map(|(range, protected)| match protected {
                true => range.len(),
                false => range.len() / self.factor + range.len() % self.factor,
            })
            .sum()
    }

    /// One lead at the full rate from its stored values.
    pub(super) fn expand(&self, stored: &[i32]) -> Vec<f64> {
        let mut values = stored.iter().map(|v| f64::from(*v));
        let mut out = Vec::with_capacity(self.count);
        for (range, protected) in self.stretches() {
            if protected {
                out.extend(values.by_ref().take(range.len()));
                continue;
            }
            let blocks: Vec<f64> = values.by_ref().take(range.len() / self.factor).collect();
            let centre = |i: usize| (i * self.factor) as f64 + (self.factor - 1) as f64 / 2.0;
            let start = out.len();
            for offset in 0..blocks.len() * self.factor {
                let at = (offset as f64 - centre(0)) / self.factor as f64;
                let left = (at.floor().max(0.0) as usize).min(blocks.len() - 1);
                let right = (left + 1).min(blocks.len() - 1);
                let fraction = (at - left as f64).clamp(0.0, 1.0);
                out.push(blocks[left] * (1.0 - fraction) + blocks[right] * fraction);
            }
            out.extend(values.by_ref().take(range.len() % self.factor));
            let rebuilt = start..out.len();
            if rebuilt.len() > 2 {
                let raw = out[rebuilt.clone()].to_vec();
                for i in 1..raw.len() - 1 {
                    out[rebuilt.start + i] = (raw[i - 1] + raw[i] + raw[i + 1]) / 3.0;
                }
            }
        }
        out.resize(self.count, 0.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::synth::{Spec, generate};

    fn section(id: u16, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0];
        out.extend(id.to_le_bytes());
        out.extend((16 + body.len() as u32).to_le_bytes());
        out.extend([20, 20, 0, 0, 0, 0, 0, 0]);
        out.extend(body);
        let sum = crc(&out[2..]);
        out[..2].copy_from_slice(&sum.to_le_bytes());
        out
    }

    /// A record of sections 3–6, the rhythm stored uncompressed, as a device compressing
    /// bimodally would: each block of `factor` samples outside the zones by its mean.
    fn record(leads: &[Vec<i32>], zones: &[(u32, u32)], factor: usize) -> Vec<u8> {
        let count = leads[0].len() as u32;
        let mut s3 = vec![leads.len() as u8, 0b100];
        for id in 0..leads.len() as u8 {
            s3.extend(1_u32.to_le_bytes());
            s3.extend(count.to_le_bytes());
            s3.push(id + 1);
        }
        let mut s4 = Vec::new();
        s4.extend(1000_u16.to_le_bytes()); // reference beat length, ms
        s4.extend(0_u16.to_le_bytes());
        s4.extend((zones.len() as u16).to_le_bytes());
        for (start, end) in zones {
            s4.extend(1_u16.to_le_bytes()); // not subtracted
            s4.extend(
                [start, &((start + end) / 2), end]
                    .iter()
                    .flat_map(|v| v.to_le_bytes()),
            );
        }
        for (start, end) in zones {
            s4.extend(start.to_le_bytes());
            s4.extend(end.to_le_bytes());
        }
        let header = |interval: u16| {
            let mut h = Vec::new();
            h.extend(1000_u16.to_le_bytes()); // 1 µV per unit
            h.extend(interval.to_le_bytes());
            h.extend([0, 1]);
            h
        };
        let mut s5 = header(2000);
        s5.truncate(4);
        s5.extend([0, 0]);
        let beat = vec![0_u8; 2 * 500];
        for _ in leads {
            s5.extend((beat.len() as u16).to_le_bytes());
        }
        for _ in leads {
            s5.extend(&beat);
        }
        let mut s6 = header(2000 * factor as u16);
        let mut data = Vec::new();
        for lead in leads {
            let mut stored = Vec::new();
            let mut at = 0;
            // Out-of-order or oversized zones (for the refusals) store nothing for them.
            let stretch = |from: usize, to: usize, stored: &mut Vec<i32>| {
                let to = to.min(lead.len());
                let Some(n) = to.checked_sub(from) else {
                    return;
                };
                for block in 0..n / factor {
                    let chunk = &lead[from + block * factor..from + (block + 1) * factor];
                    stored.push(chunk.iter().sum::<i32>() / factor as i32);
                }
                stored.extend(&lead[to - n % factor..to]);
            };
            for (start, end) in zones {
                stretch(at, *start as usize - 1, &mut stored);
                stored.extend(
                    lead.get(*start as usize - 1..*end as usize)
                        .unwrap_or_default(),
                );
                at = *end as usize;
            }
            stretch(at, lead.len(), &mut stored);
            let bytes: Vec<u8> = stored
                .iter()
                .flat_map(|v| (*v as i16).to_le_bytes())
                .collect();
            s6.extend((bytes.len() as u16).to_le_bytes());
            data.push(bytes);
        }
        s6.extend(data.concat());
        let bodies = [(3, s3), (4, s4), (5, s5), (6, s6)];
        let sections: Vec<Vec<u8>> = bodies.iter().map(|(id, b)| section(*id, b)).collect();
        let mut pointers = Vec::new();
        let mut index = 6 + 16 + 10 * 12 + 1;
        for id in 0..12_u16 {
            let found = bodies.iter().position(|(i, _)| *i == id);
            let length = found.map_or(0, |f| sections[f].len() as u32);
            let entry_index = if id == 0 {
                7
            } else if length > 0 {
                index
            } else {
                0
            };
            let entry_length = if id == 0 { 16 + 120 } else { length };
            pointers.extend(id.to_le_bytes());
            pointers.extend(entry_length.to_le_bytes());
            pointers.extend((entry_index as u32).to_le_bytes());
            index += length as usize;
        }
        let mut body = section(0, &pointers);
        body.extend(sections.concat());
        let mut out = vec![0, 0];
        out.extend((6 + body.len() as u32).to_le_bytes());
        out.extend(body);
        let sum = crc(&out[2..]);
        out[..2].copy_from_slice(&sum.to_le_bytes());
        out
    }

    #[test]
    fn bimodal_rhythm_is_rebuilt_at_the_full_rate() {
        let original = generate(&Spec {
            sampling_hz: 500.0,
            ..Spec::default()
        });
        let beats = crate::detect::detect_beats(&original);
        let zones: Vec<(u32, u32)> = beats
            .iter()
            .filter(|b| **b > 40 && **b + 60 < original.len())
            .map(|b| (*b as u32 - 40, *b as u32 + 60))
            .collect();
        let leads: Vec<Vec<i32>> = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
            .iter()
            .map(|name| {
                original
                    .lead(name)
                    .expect("synthetic lead")
                    .samples_uv
                    .clone()
            })
            .collect();
        let bytes = record(&leads, &zones, 4);
        let read = read(&bytes).expect("bimodal record");
        assert_eq!(read.sampling_hz, 500.0);
        assert_eq!(read.len(), original.len());
        for name in ["I", "II", "V2", "V5"] {
            let (ours, theirs) = (read.lead(name).unwrap(), original.lead(name).unwrap());
            for (start, end) in &zones {
                let zone = *start as usize - 1..*end as usize;
                assert_eq!(ours.samples_uv[zone.clone()], theirs.samples_uv[zone]);
            }
            let worst = ours
                .samples_uv
                .iter()
                .zip(&theirs.samples_uv)
                .map(|(a, b)| (a - b).abs())
                .max()
                .unwrap();
            assert!(
                worst < 40,
                "{name}: {worst} µV off outside the protected zones"
            );
        }
        let (a, b) = (crate::analyze(&read, None), crate::analyze(&original, None));
        assert_eq!(a.heart_rate_bpm, b.heart_rate_bpm);
        assert!((a.qt_ms.unwrap() - b.qt_ms.unwrap()).abs() <= 10.0);

        let overlapping = record(&leads, &[(100, 200), (150, 250)], 4);
        assert!(super::super::read(&overlapping).is_err());
        let beyond = record(&leads, &[(100, original.len() as u32 + 10)], 4);
        assert!(super::super::read(&beyond).is_err());
        let uneven = record(&leads, &zones, 4);
        let mut uneven = uneven;
        // The rhythm interval (8000 µs) made 7000: not a multiple of the beat's 2000.
        let at = uneven
            .windows(2)
            .position(|w| w == 8000_u16.to_le_bytes())
            .expect("the rhythm interval");
        uneven[at..at + 2].copy_from_slice(&7000_u16.to_le_bytes());
        super::super::damage::seal(&mut uneven);
        let refused = super::super::read(&uneven).expect_err("an uneven decimation");
        assert!(refused.to_string().contains("multiple"), "{refused}");
    }
}
