// SIMD math functions and elementwise kernels, written once against a small vector vocabulary and instantiated
// per ISA: vector_x86_avx2.c and vector_x86_avx512.c define vf (float vector), vm (lane mask), CK_W (lanes),
// CK_SUFFIX, CK_REF and the v_* operations, then include this file and vector_simd_rows.h inside a target("...")
// region. Tails use masked loads/stores (never past the end). No include guard: included once per ISA; the
// headers it needs are included by the instantiating file before the target region.
//
// Helpers are CK_INLINE and take their vector arguments by address, behind a macro of the plain name (v_exp(x)
// is v_exp_at(CK_REF(x))): passed by value, every vector argument is a memcpy in unoptimised builds (see
// ck_simd_x86.h).

// ---- Math functions (argument vector → result vector)

// Clamp that lets NaN through: v_max/v_min return their second operand when either is NaN.
#define v_clamp(x, lo, hi) v_min(v_set1(hi), v_max(v_set1(lo), x))

#define v_negate(x) v_xor(x, v_set1(-0.0f))

// exp: n = round(x / ln2), r = x − n ln2 (Cody–Waite, ln2 split so n·ln2_hi is exact), exp(r) by a degree-6
// polynomial (relative error 1.9e-9 on |r| ≤ ln2/2, weighted least-squares/Lawson fit), then r·2^n.
CK_INLINE vf v_exp_at(const vf *x_at) {
    const vf x = *x_at;
    vf xc = v_clamp(x, -104.0f, 88.8f);
    vf n = v_round(v_mul(xc, v_set1(1.44269504088896341f)));
    vf r = v_fnmadd(n, v_set1(0.693145751953125f), xc);
    r = v_fnmadd(n, v_set1(1.42860682030941723e-6f), r);
    vf p = v_set1(1.3836844516710387e-3f);
    p = v_fmadd(p, r, v_set1(8.374815796103366e-3f));
    p = v_fmadd(p, r, v_set1(4.1668225595842774e-2f));
    p = v_fmadd(p, r, v_set1(1.666642016997198e-1f));
    p = v_fmadd(p, r, v_set1(4.999999207969973e-1f));
    p = v_fmadd(p, r, v_set1(1.000000036323162f));
    p = v_fmadd(p, r, v_set1(1.0f));
    vf y = v_ldexp(p, n);
    // Below ln(2^-150) the result rounds to zero (this also covers −inf).
    return v_blend(v_lt(x, v_set1(-103.972077f)), y, v_zero());
}
#define v_exp(x) v_exp_at(CK_REF(x))

// log: x = m 2^e with m in [√½, √2); log m = 2 atanh(s) = 2s + 2s³/3 + 2s⁵/5 + …, s = (m − 1)/(m + 1),
// |s| ≤ 0.172 so the series through s¹¹ has relative truncation error 2e-9.
CK_INLINE vf v_log_at(const vf *x_at) {
    const vf x = *x_at;
    vf e;
    vf m = v_frexp(x, &e);
    vm big = v_lt(v_set1(1.41421356f), m);
    m = v_blend(big, m, v_mul(m, v_set1(0.5f)));
    e = v_blend(big, e, v_add(e, v_set1(1.0f)));
    vf f = v_sub(m, v_set1(1.0f));  // exact
    vf s = v_div(f, v_add(f, v_set1(2.0f)));
    vf z = v_mul(s, s);
    vf p = v_set1(2.0f / 11.0f);
    p = v_fmadd(p, z, v_set1(2.0f / 9.0f));
    p = v_fmadd(p, z, v_set1(2.0f / 7.0f));
    p = v_fmadd(p, z, v_set1(2.0f / 5.0f));
    p = v_fmadd(p, z, v_set1(2.0f / 3.0f));
    vf tail = v_fmadd(v_mul(s, z), p, v_mul(e, v_set1(1.42860682030941723e-6f)));
    vf y = v_fmadd(e, v_set1(0.693145751953125f), v_add(v_add(s, s), tail));
    y = v_blend(v_eq(x, v_zero()), y, v_set1(-INFINITY));
    y = v_blend(v_lt(x, v_zero()), y, v_set1(NAN));
    y = v_blend(v_eq(x, v_set1(INFINITY)), y, x);
    return v_blend(v_isnan(x), y, x);
}
#define v_log(x) v_log_at(CK_REF(x))

// tanh: below |x| = 0.9 an odd polynomial x + x³ P(x²) (relative error 1.1e-9, Lawson fit); above,
// 1 − 2/(e^{2|x|} + 1) with the sign of x, whose cancellation is harmless once tanh ≥ 0.7.
CK_INLINE vf v_tanh_at(const vf *x_at) {
    const vf x = *x_at;
    vf z = v_mul(x, x);
    vf p = v_set1(-4.55459645145018e-4f);
    p = v_fmadd(p, z, v_set1(2.5826668742833696e-3f));
    p = v_fmadd(p, z, v_set1(-8.264542735710496e-3f));
    p = v_fmadd(p, z, v_set1(2.1663541852649376e-2f));
    p = v_fmadd(p, z, v_set1(-5.392930140744273e-2f));
    p = v_fmadd(p, z, v_set1(1.3332978261228318e-1f));
    p = v_fmadd(p, z, v_set1(-3.3333322263320114e-1f));
    vf small = v_fmadd(v_mul(x, z), p, x);
    vf a = v_abs(x);
    vf e = v_exp(v_add(a, a));
    vf large = v_sub(v_set1(1.0f), v_div(v_set1(2.0f), v_add(e, v_set1(1.0f))));
    large = v_or(large, v_sign(x));
    return v_blend(v_lt(a, v_set1(0.9f)), large, small);
}
#define v_tanh(x) v_tanh_at(CK_REF(x))

CK_INLINE vf v_sigmoid_at(const vf *x_at) {
    const vf x = *x_at;
    return v_div(v_set1(1.0f), v_add(v_set1(1.0f), v_exp(v_negate(x))));
}
#define v_sigmoid(x) v_sigmoid_at(CK_REF(x))

// gelu_tanh(x) = x σ(2u), u = √(2/π)(x + 0.044715 x³); exp(−2u) = inf only where the result is below 1e-37.
CK_INLINE vf v_gelu_tanh_at(const vf *x_at) {
    const vf x = *x_at;
    vf w = v_fmadd(v_mul(v_mul(x, x), v_set1(CK_GELU_K1)), x, x);
    vf e = v_exp(v_mul(w, v_set1(-2.0f * CK_GELU_K0)));
    vf y = v_div(x, v_add(v_set1(1.0f), e));
    return v_blend(v_eq(e, v_set1(INFINITY)), y, v_zero());
}
#define v_gelu_tanh(x) v_gelu_tanh_at(CK_REF(x))

// d gelu_tanh / dx = σ(2u) + 2 x u' σ'(2u) with σ'(2u) = e σ², e = exp(−2u) (no 1 − σ cancellation).
CK_INLINE vf v_gelu_tanh_derivative_at(const vf *x_at) {
    const vf x = *x_at;
    vf v = v_clamp(x, -10.0f, 10.0f);  // beyond ±10 the derivative is 0 or 1 in float
    vf v2 = v_mul(v, v);
    vf w = v_fmadd(v_mul(v2, v_set1(CK_GELU_K1)), v, v);
    vf e = v_exp(v_mul(w, v_set1(-2.0f * CK_GELU_K0)));
    vf s = v_div(v_set1(1.0f), v_add(v_set1(1.0f), e));
    vf slope = v_mul(v_mul(e, s), s);
    vf du = v_fmadd(v2, v_set1(3.0f * CK_GELU_K0 * CK_GELU_K1), v_set1(CK_GELU_K0));
    return v_fmadd(v_mul(v_add(v, v), du), slope, s);
}
#define v_gelu_tanh_derivative(x) v_gelu_tanh_derivative_at(CK_REF(x))

// 2Φ(x) = erfc(−x/√2) (see ck_twice_normal_cdf_scalar) and exp(−x²/2) for the derivative; v is clamped to ±20.
CK_INLINE vf v_twice_normal_cdf_at(const vf *v_at, vf *gaussian) {
    const vf v = *v_at;
    vf a = v_mul(v_abs(v), v_set1(CK_INV_SQRT2));
    vf t = v_div(v_set1(1.0f), v_fmadd(a, v_set1(0.5f), v_set1(1.0f)));
    vf q = v_set1(CK_ERFC_Q10);
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q9));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q8));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q7));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q6));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q5));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q4));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q3));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q2));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q1));
    q = v_fmadd(q, t, v_set1(CK_ERFC_Q0));
    // exp(−x²/2) with x² = hi + lo exactly (FMA), so the rounding of x² does not enter the exponent.
    vf hi = v_mul(v, v);
    vf lo = v_fmsub(v, v, hi);
    *gaussian = v_mul(v_exp(v_mul(hi, v_set1(-0.5f))), v_fnmadd(lo, v_set1(0.5f), v_set1(1.0f)));
    vf erfc = v_mul(v_mul(*gaussian, t), q);
    return v_blend(v_le(v, v_zero()), v_sub(v_set1(2.0f), erfc), erfc);
}
#define v_twice_normal_cdf(x, out) v_twice_normal_cdf_at(CK_REF(x), out)

CK_INLINE vf v_gelu_erf_at(const vf *x_at) {
    const vf x = *x_at;
    vf gaussian;
    vf c = v_twice_normal_cdf(v_clamp(x, -20.0f, 20.0f), &gaussian);
    vf y = v_mul(v_mul(x, v_set1(0.5f)), c);
    return v_blend(v_eq(c, v_zero()), y, v_zero());  // x = −inf would give NaN
}
#define v_gelu_erf(x) v_gelu_erf_at(CK_REF(x))

CK_INLINE vf v_gelu_erf_derivative_at(const vf *x_at) {
    const vf x = *x_at;
    vf gaussian;
    vf v = v_clamp(x, -20.0f, 20.0f);
    vf c = v_twice_normal_cdf(v, &gaussian);
    return v_fmadd(v_mul(v, v_set1(CK_INV_SQRT_2PI)), gaussian, v_mul(c, v_set1(0.5f)));
}
#define v_gelu_erf_derivative(x) v_gelu_erf_derivative_at(CK_REF(x))

CK_INLINE vf v_silu_at(const vf *x_at) {
    const vf x = *x_at;
    vf e = v_exp(v_negate(x));
    vf y = v_div(x, v_add(v_set1(1.0f), e));
    return v_blend(v_eq(e, v_set1(INFINITY)), y, v_zero());
}
#define v_silu(x) v_silu_at(CK_REF(x))

CK_INLINE vf v_silu_derivative_at(const vf *x_at) {
    const vf x = *x_at;
    vf v = v_clamp(x, -80.0f, 80.0f);
    vf e = v_exp(v_negate(v));
    vf s = v_div(v_set1(1.0f), v_add(v_set1(1.0f), e));
    return v_fmadd(v, v_mul(v_mul(e, s), s), s);
}
#define v_silu_derivative(x) v_silu_derivative_at(CK_REF(x))

// ---- Elementwise kernels

#define CK_DEFINE_UNARY(name, function)                                                                        \
    void CK_SUFFIX(ck_##name)(int64_t n, const float *x, float *y) {                                           \
        int64_t i = 0;                                                                                         \
        for (; i + CK_W <= n; i += CK_W) v_storeu(y + i, function(v_loadu(x + i)));                            \
        if (i < n) v_store_partial(y + i, function(v_load_partial(x + i, n - i)), n - i);                      \
    }

#define CK_DEFINE_BACKWARD(name, derivative)                                                                   \
    void CK_SUFFIX(ck_##name)(int64_t n, const float *x, const float *dy, float *dx) {                         \
        int64_t i = 0;                                                                                         \
        for (; i + CK_W <= n; i += CK_W) v_storeu(dx + i, v_mul(v_loadu(dy + i), derivative(v_loadu(x + i)))); \
        if (i < n)                                                                                             \
            v_store_partial(dx + i, v_mul(v_load_partial(dy + i, n - i), derivative(v_load_partial(x + i, n - i))), \
                            n - i);                                                                            \
    }

CK_DEFINE_UNARY(exp, v_exp)
CK_DEFINE_UNARY(log, v_log)
CK_DEFINE_UNARY(tanh, v_tanh)
CK_DEFINE_UNARY(sigmoid, v_sigmoid)
CK_DEFINE_UNARY(gelu_tanh_forward, v_gelu_tanh)
CK_DEFINE_BACKWARD(gelu_tanh_backward, v_gelu_tanh_derivative)
CK_DEFINE_UNARY(gelu_erf_forward, v_gelu_erf)
CK_DEFINE_BACKWARD(gelu_erf_backward, v_gelu_erf_derivative)
CK_DEFINE_UNARY(silu_forward, v_silu)
CK_DEFINE_BACKWARD(silu_backward, v_silu_derivative)
