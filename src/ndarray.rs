//! N-dimensional arrays over shared memory: dtype, shape, order.
//!
//! The wire (and [`NDArray::shape`]) is always C order, row-major, last index
//! fastest, as numpy's default. A shape given in F order is the same array
//! described with its axes reversed, and is reversed on the way in, as
//! appose-java does. An array never claims more bytes than its block holds:
//! the peers trust `rsize`, we check it.

use crate::error::{Error, ErrorKind, Result};
use crate::shm::SharedMemory;

/// Element types both peers know. `Bool` is one byte (Java has it; Python's
/// NDArray cannot allocate it but reads it), `Float16` is Python's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
    Bool,
}

impl DType {
    /// Every dtype, in the order of their C numbers.
    pub const ALL: [DType; 14] = [
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Float16,
        DType::Float32,
        DType::Float64,
        DType::Complex64,
        DType::Complex128,
        DType::Bool,
    ];

    /// The numpy name used on the wire.
    pub fn name(self) -> &'static str {
        match self {
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Float16 => "float16",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Complex64 => "complex64",
            DType::Complex128 => "complex128",
            DType::Bool => "bool",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown dtype {name:?} (known: {})", known.join(", ")),
                )
            })
    }

    /// Bytes per element.
    pub fn item_size(self) -> usize {
        match self {
            DType::Int8 | DType::Uint8 | DType::Bool => 1,
            DType::Int16 | DType::Uint16 | DType::Float16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 | DType::Complex64 => 8,
            DType::Complex128 => 16,
        }
    }
}

/// How a shape lists its axes: C (slowest first, the wire's) or F (fastest
/// first, as Java's imaging libraries like it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    C,
    F,
}

/// An array: dtype and shape over a shared memory block. Clones share the
/// block.
#[derive(Clone, Debug, PartialEq)]
pub struct NDArray {
    dtype: DType,
    shape: Vec<usize>,
    shm: SharedMemory,
}

fn c_order(shape: &[usize], order: Order) -> Vec<usize> {
    match order {
        Order::C => shape.to_vec(),
        Order::F => shape.iter().rev().copied().collect(),
    }
}

fn byte_len(dtype: DType, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(dtype.item_size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("shape {shape:?} of {} is too large", dtype.name()),
            )
        })
}

impl NDArray {
    /// A new array in a new block (owned: unlinked with its last handle).
    pub fn new(dtype: DType, shape: &[usize], order: Order) -> Result<Self> {
        let shape = c_order(shape, order);
        let bytes = byte_len(dtype, &shape)?;
        if bytes == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("shape {shape:?} has no elements: shared memory cannot be empty"),
            ));
        }
        let shm = SharedMemory::create(bytes)?;
        Ok(NDArray { dtype, shape, shm })
    }

    /// An array over an existing block; refused if it needs more bytes than
    /// the block has.
    pub fn wrap(shm: SharedMemory, dtype: DType, shape: &[usize], order: Order) -> Result<Self> {
        let shape = c_order(shape, order);
        let bytes = byte_len(dtype, &shape)?;
        if bytes > shm.size() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a {} array of shape {shape:?} needs {bytes} bytes, block {} has {}",
                    dtype.name(),
                    shm.name(),
                    shm.size()
                ),
            ));
        }
        Ok(NDArray { dtype, shape, shm })
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape in C order (as on the wire).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The shape listed in `order`.
    pub fn shape_in(&self, order: Order) -> Vec<usize> {
        c_order(&self.shape, order)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the elements take (at most the block's size).
    pub fn byte_len(&self) -> usize {
        self.len() * self.dtype.item_size()
    }

    pub fn shm(&self) -> &SharedMemory {
        &self.shm
    }

    /// The first element's byte; valid while any handle to the block lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.shm.as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()).unwrap(), d);
        }
        assert_eq!(DType::Complex128.item_size(), 16);
        let err = DType::from_name("float128").unwrap_err();
        assert!(err.message().contains("float32"), "{err}");
    }

    #[test]
    fn f_order_is_reversed_on_the_wire() {
        let a = NDArray::new(DType::Uint16, &[4, 3, 2], Order::F).unwrap();
        assert_eq!(a.shape(), &[2, 3, 4]);
        assert_eq!(a.shape_in(Order::F), vec![4, 3, 2]);
        assert_eq!((a.len(), a.byte_len(), a.shm().rsize()), (24, 48, 48));
    }

    #[test]
    fn a_view_larger_than_its_block_is_refused() {
        let shm = SharedMemory::create(100).unwrap();
        assert!(NDArray::wrap(shm.clone(), DType::Float32, &[25], Order::C).is_ok());
        let err = NDArray::wrap(shm, DType::Float32, &[26], Order::C).unwrap_err();
        assert!(err.message().contains("needs 104 bytes"), "{err}");
        let err = NDArray::new(DType::Int8, &[usize::MAX, 2], Order::C).unwrap_err();
        assert!(err.message().contains("too large"), "{err}");
        assert!(NDArray::new(DType::Int8, &[3, 0], Order::C).is_err());
    }
}
