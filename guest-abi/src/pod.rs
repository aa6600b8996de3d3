//! [`Pod`]: plain-old-data types that may be copied to and from raw guest bytes.
//!
//! Not a kernel header: this is the safe byte-level view umk uses to read ABI
//! structs out of guest memory and write them back, and that no_std guests use
//! to build syscall arguments.

use core::mem::size_of;

/// A plain-old-data ABI type: `#[repr(C)]` (or a primitive), `Copy`, with no
/// padding bytes, no pointers or references, and valid for every bit pattern.
///
/// With those guarantees every value can be viewed as `size_of::<Self>()`
/// initialised bytes and any such bytes are a valid value, which is what the
/// provided methods rely on.
///
/// # Safety
/// Implementors must guarantee all of the above: no padding (not even tail
/// padding), no field with invalid bit patterns (`bool`, `char`, enums,
/// references, `NonZero*`...), and no interior mutability. The structs in this
/// crate are declared with the `pod_struct!` macro, which proves "no padding" at
/// compile time by checking that the fields are contiguous and fill the struct.
/// Do not override the provided methods.
pub unsafe trait Pod: Copy + 'static {
    /// The value's bytes, in memory order.
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `self` is a valid reference to `size_of::<Self>()` bytes, all
        // initialised because `Self: Pod` has no padding; `u8` has alignment 1,
        // and the slice borrows `self` so it cannot outlive it.
        unsafe {
            core::slice::from_raw_parts((self as *const Self).cast::<u8>(), size_of::<Self>())
        }
    }

    /// The value's bytes, mutably. Any bytes written leave a valid `Self`.
    #[inline]
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_bytes`; additionally `Self: Pod` is valid for every
        // bit pattern, so arbitrary writes through the slice keep it valid, and
        // the exclusive borrow of `self` makes the slice the only access path.
        unsafe {
            core::slice::from_raw_parts_mut((self as *mut Self).cast::<u8>(), size_of::<Self>())
        }
    }

    /// Reads a value from the first `size_of::<Self>()` bytes of `bytes` (any
    /// alignment). `None` if `bytes` is too short; extra bytes are ignored.
    #[inline]
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < size_of::<Self>() {
            return None;
        }
        // SAFETY: `bytes` has at least `size_of::<Self>()` readable, initialised
        // bytes; `read_unaligned` has no alignment requirement; any bit pattern
        // is a valid `Self` because `Self: Pod`.
        Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<Self>()) })
    }

    /// Copies the value into the start of `out`; `None` if `out` is too short.
    /// Returns the number of bytes written.
    #[inline]
    fn write_to(&self, out: &mut [u8]) -> Option<usize> {
        let n = size_of::<Self>();
        out.get_mut(..n)?.copy_from_slice(self.as_bytes());
        Some(n)
    }

    /// The all-zero value.
    #[inline]
    fn zeroed() -> Self {
        // SAFETY: `Self: Pod` is valid for every bit pattern, including all zeros.
        unsafe { core::mem::zeroed() }
    }
}

/// The bytes of a slice of `Pod` values (arrays of `Pod` have no padding
/// between elements: a type's size is a multiple of its alignment).
#[inline]
pub fn slice_as_bytes<T: Pod>(s: &[T]) -> &[u8] {
    // SAFETY: `s` covers `size_of_val(s)` initialised bytes (elements are Pod and
    // arrays have no inter-element padding); the result borrows `s`.
    unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<u8>(), core::mem::size_of_val(s)) }
}

/// The bytes of a mutable slice of `Pod` values.
#[inline]
pub fn slice_as_bytes_mut<T: Pod>(s: &mut [T]) -> &mut [u8] {
    let len = core::mem::size_of_val(s);
    // SAFETY: as in `slice_as_bytes`; every bit pattern written is a valid `T`,
    // and the exclusive borrow of `s` makes this the only access path.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), len) }
}

macro_rules! impl_pod_primitive {
    ($($t:ty),*) => {$(
        // SAFETY: primitive integers have no padding and every bit pattern is valid.
        unsafe impl Pod for $t {}
    )*};
}
impl_pod_primitive!(u8, u16, u32, u64, i8, i16, i32, i64, usize, isize);

// SAFETY: an array of `Pod` has no padding (an element's size is a multiple of
// its alignment, so elements are contiguous) and is valid for every bit pattern
// because each element is.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Compile-time proof that `T` is `Pod`; used by `pod_struct!` on every field.
#[doc(hidden)]
pub const fn assert_pod<T: Pod>() {}

/// Declares `#[repr(C)]` structs and implements [`Pod`] for them after proving
/// at compile time that every field is `Pod`, that the fields are contiguous in
/// declaration order (no padding between them), and that they fill exactly the
/// expected kernel size (no tail padding).
///
/// ```text
/// pod_struct! {
///     /// doc
///     #[derive(Clone, Copy, Debug, Default)]
///     pub struct Foo { pub a: u32, pub b: u32 } = 8;
/// }
/// ```
macro_rules! pod_struct {
    ($(
        $(#[$m:meta])*
        pub struct $name:ident { $( $(#[$fm:meta])* pub $field:ident : $ty:ty ),* $(,)? } = $size:expr;
    )*) => {$(
        $(#[$m])*
        pub struct $name { $( $(#[$fm])* pub $field: $ty ),* }

        const _: () = {
            let mut end = 0usize;
            $(
                $crate::pod::assert_pod::<$ty>();
                assert!(core::mem::offset_of!($name, $field) == end, "padding before a field");
                end += core::mem::size_of::<$ty>();
            )*
            assert!(end == $size, "fields do not add up to the kernel size");
            assert!(core::mem::size_of::<$name>() == $size, "size differs from the kernel's");
        };

        // SAFETY: every field is `Pod` (checked above by `assert_pod`), the
        // fields are contiguous from offset 0 and their sizes add up to the
        // struct's size (checked above), so there are no padding bytes; hence
        // the struct is valid for every bit pattern and all its bytes are
        // initialised.
        unsafe impl $crate::pod::Pod for $name {}
    )*};
}
pub(crate) use pod_struct;
