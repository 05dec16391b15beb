import COpenBLAS

/// Dense single-precision products through OpenBLAS, for work over many tokens at once.
public enum BLAS {
    /// C[m x n] = A[m x k] * B^T where B is stored as n rows of k (the layout of weight
    /// matrices: one row per output feature). Row-major throughout.
    public static func multiplyTransposed(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, accumulate: Bool = false
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                    1, a, blasint(k), b, blasint(k), accumulate ? 1 : 0, c, blasint(n))
    }

    /// y[i] = alpha * (row i of A) · x for `rows` rows `stride` floats apart.
    public static func rowsDot(_ a: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                               _ x: UnsafePointer<Float>, alpha: Float, _ y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(rows), blasint(columns), alpha, a, blasint(stride), x, 1, 0, y, 1)
    }

    /// y = Σᵢ w[i] * (row i of A), rows `stride` floats apart.
    public static func weightedRowSum(_ a: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                                      _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, CblasTrans, blasint(rows), blasint(columns), 1, a, blasint(stride), w, 1, 0, y, 1)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel OpenBLAS picked for this CPU ("Cooperlake", "Haswell", ...).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
