//! The fixed-size word arrays field elements and scalars live in.

/// Words of every element: m ≤ 447 for all ten DSTU fields.
pub(crate) const LIMBS: usize = 7;

/// A field element (or, for the scalar helpers, a little-endian integer) of up to 448 bits,
/// little-endian limb order.
pub(crate) type Limbs = [u64; LIMBS];

/// Twice the limbs: an unreduced product.
pub(crate) type Wide = [u64; 2 * LIMBS];
