//! C ABI for [`crate::ndarray`].

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::LazyLock;

use super::handle::{self, appose_ndarray, appose_shm};
use super::{appose_error, appose_status, check_out, guard, FfiError, FfiResult};
use crate::{DType, NDArray, Order};

/// Element types. Numbers are part of the ABI; functions take them as `int`
/// and refuse unknown values.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_dtype {
    APPOSE_DTYPE_INT8 = 0,
    APPOSE_DTYPE_INT16 = 1,
    APPOSE_DTYPE_INT32 = 2,
    APPOSE_DTYPE_INT64 = 3,
    APPOSE_DTYPE_UINT8 = 4,
    APPOSE_DTYPE_UINT16 = 5,
    APPOSE_DTYPE_UINT32 = 6,
    APPOSE_DTYPE_UINT64 = 7,
    APPOSE_DTYPE_FLOAT16 = 8,
    APPOSE_DTYPE_FLOAT32 = 9,
    APPOSE_DTYPE_FLOAT64 = 10,
    APPOSE_DTYPE_COMPLEX64 = 11,
    APPOSE_DTYPE_COMPLEX128 = 12,
    APPOSE_DTYPE_BOOL = 13,
}

/// How a shape lists its axes: C (slowest axis first, the wire's order) or
/// F (fastest first; reversed on the way in and out).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_order {
    APPOSE_ORDER_C = 0,
    APPOSE_ORDER_F = 1,
}

/// The C numbers of the dtypes.
const DTYPES: [(appose_dtype, DType); 14] = {
    use appose_dtype::*;
    [
        (APPOSE_DTYPE_INT8, DType::Int8),
        (APPOSE_DTYPE_INT16, DType::Int16),
        (APPOSE_DTYPE_INT32, DType::Int32),
        (APPOSE_DTYPE_INT64, DType::Int64),
        (APPOSE_DTYPE_UINT8, DType::Uint8),
        (APPOSE_DTYPE_UINT16, DType::Uint16),
        (APPOSE_DTYPE_UINT32, DType::Uint32),
        (APPOSE_DTYPE_UINT64, DType::Uint64),
        (APPOSE_DTYPE_FLOAT16, DType::Float16),
        (APPOSE_DTYPE_FLOAT32, DType::Float32),
        (APPOSE_DTYPE_FLOAT64, DType::Float64),
        (APPOSE_DTYPE_COMPLEX64, DType::Complex64),
        (APPOSE_DTYPE_COMPLEX128, DType::Complex128),
        (APPOSE_DTYPE_BOOL, DType::Bool),
    ]
};

fn dtype_from(code: c_int) -> FfiResult<DType> {
    DTYPES
        .iter()
        .find(|(c, _)| *c as c_int == code)
        .map(|&(_, d)| d)
        .ok_or_else(|| {
            FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
                format!("{code} is not an appose_dtype"),
            )
        })
}

fn order_from(code: c_int) -> FfiResult<Order> {
    match code {
        c if c == appose_order::APPOSE_ORDER_C as c_int => Ok(Order::C),
        c if c == appose_order::APPOSE_ORDER_F as c_int => Ok(Order::F),
        _ => Err(FfiError::new(
            appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
            format!("{code} is not an appose_order"),
        )),
    }
}

unsafe fn shape_arg<'a>(shape: *const usize, ndim: usize) -> FfiResult<&'a [usize]> {
    if ndim == 0 {
        return Ok(&[]);
    }
    if shape.is_null() {
        return Err(FfiError::new(
            appose_status::APPOSE_STATUS_NULL_ARGUMENT,
            format!("`shape` is NULL but ndim is {ndim}"),
        ));
    }
    Ok(std::slice::from_raw_parts(shape, ndim))
}

fn dtype_index(d: DType) -> c_int {
    DTYPES
        .iter()
        .find(|&&(_, x)| x == d)
        .map_or(0, |&(c, _)| c as c_int)
}

/// The numpy name of a dtype (`"float32"`, ...), or NULL for an unknown
/// value. Static; never free it.
#[no_mangle]
pub extern "C" fn appose_dtype_name(dtype: c_int) -> *const c_char {
    static NAMES: LazyLock<Vec<(DType, CString)>> = LazyLock::new(|| {
        DType::ALL
            .iter()
            .map(|&d| (d, CString::new(d.name()).expect("no NUL in dtype names")))
            .collect()
    });
    match dtype_from(dtype) {
        Ok(d) => NAMES
            .iter()
            .find(|(x, _)| *x == d)
            .map_or(std::ptr::null(), |(_, c)| c.as_ptr()),
        Err(_) => std::ptr::null(),
    }
}

/// Bytes per element of a dtype, 0 for an unknown value.
#[no_mangle]
pub extern "C" fn appose_dtype_size(dtype: c_int) -> usize {
    dtype_from(dtype).map_or(0, DType::item_size)
}

/// A new array of `dtype` (an appose_dtype) and `shape` (`ndim` extents,
/// listed in `order`), in a new owned block, reserved as by
/// `appose_shm_create` (blocking while the pages are reserved). Free with
/// `appose_ndarray_free`. `ndim` 0 (`shape` may be NULL) makes a 0-d array
/// of one element.
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_new(
    dtype: c_int,
    shape: *const usize,
    ndim: usize,
    order: c_int,
    ndarray_out: *mut *mut appose_ndarray,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let dtype = dtype_from(dtype)?;
        let shape = shape_arg(shape, ndim)?;
        let order = order_from(order)?;
        check_out(ndarray_out, "ndarray_out")?;
        *ndarray_out = handle::insert(NDArray::new(dtype, shape, order)?);
        Ok(())
    })
}

/// An array over an existing block. `APPOSE_STATUS_INVALID_ARGUMENT` if the
/// array would need more bytes than the block has.
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_wrap(
    shm: *const appose_shm,
    dtype: c_int,
    shape: *const usize,
    ndim: usize,
    order: c_int,
    ndarray_out: *mut *mut appose_ndarray,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        let dtype = dtype_from(dtype)?;
        let shape = shape_arg(shape, ndim)?;
        let order = order_from(order)?;
        check_out(ndarray_out, "ndarray_out")?;
        *ndarray_out = handle::insert(NDArray::wrap(shm, dtype, shape, order)?);
        Ok(())
    })
}

/// The array's dtype (an appose_dtype value).
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_dtype(
    ndarray: *const appose_ndarray,
    dtype_out: *mut c_int,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(dtype_out, "dtype_out")?;
        *dtype_out = dtype_index(a.dtype());
        Ok(())
    })
}

/// The number of dimensions.
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_ndim(
    ndarray: *const appose_ndarray,
    ndim_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(ndim_out, "ndim_out")?;
        *ndim_out = a.shape().len();
        Ok(())
    })
}

/// Copies the shape, listed in `order`, into `shape_out`, which has room for
/// `capacity` extents (at least ndim, else `APPOSE_STATUS_INVALID_ARGUMENT`).
/// A 0-d array (one element, numpy's shape `()`) has no extents to copy:
/// `shape_out` may then be NULL, as `shape` may be for `appose_ndarray_new`.
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_shape(
    ndarray: *const appose_ndarray,
    order: c_int,
    shape_out: *mut usize,
    capacity: usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        let order = order_from(order)?;
        let shape = a.shape_in(order);
        if shape.is_empty() {
            return Ok(());
        }
        check_out(shape_out, "shape_out")?;
        if capacity < shape.len() {
            return Err(FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
                format!(
                    "`shape_out` has room for {capacity}, the array has {} dimensions",
                    shape.len()
                ),
            ));
        }
        std::ptr::copy_nonoverlapping(shape.as_ptr(), shape_out, shape.len());
        Ok(())
    })
}

/// The elements' bytes (C order). Valid while any handle to the block lives.
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_data(
    ndarray: *const appose_ndarray,
    data_out: *mut *mut c_void,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(data_out, "data_out")?;
        *data_out = a.as_ptr().cast();
        Ok(())
    })
}

/// The number of bytes the elements take (elements times item size).
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_byte_length(
    ndarray: *const appose_ndarray,
    length_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(length_out, "length_out")?;
        *length_out = a.byte_len();
        Ok(())
    })
}

/// A new handle to the array's block (free it with `appose_shm_free`).
#[no_mangle]
pub unsafe extern "C" fn appose_ndarray_shm(
    ndarray: *const appose_ndarray,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert(a.shm().clone());
        Ok(())
    })
}

/// Frees an array handle (its block lives on while other handles use it).
#[no_mangle]
pub extern "C" fn appose_ndarray_free(ndarray: *mut appose_ndarray) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(ndarray))
}
