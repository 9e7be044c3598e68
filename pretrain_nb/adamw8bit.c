#include <stdint.h>
#include <string.h>
#include <math.h>
#define BS 256
/* The constants of one quantization map, 42 floats from `kernel_tables`:
   DA[8] DB[8]  code -> value: value = j * DB[c] + DA[c], c = the binary exponent of j (mod 8)
   QB[8] QC[8]  value -> code: P = round(|x| / absmax * QB[c] + QC[c]), c = thresholds below |x| / absmax (mod 8)
   T[8]         the decade thresholds, then the midpoint below the code 1.0 (fractions of absmax)
   G[2]         gain and bias of the guess of c from the bits of |x| and absmax */
enum { DA = 0, DB = 8, QB = 16, QC = 24, T = 32, G = 40 };

typedef struct {                   /* one parameter tensor; s1, s2 are 8-bit codes (a1 != 0) or fp32 m, v (a1 == 0) */
    float* p; const float* g; void* s1; void* s2; float* a1; float* a2; int64_t n;
    float lr, wd, b1, b2, eps, c1, c2;
} tensor_t;

static inline int32_t bits_of(float x) { int32_t i; memcpy(&i, &x, 4); return i; }
static inline float float_of(int32_t i) { float x; memcpy(&x, &i, 4); return x; }
static inline int32_t round_to_int(float f) {        /* like cvtps2dq: nearest-even; out of range or NaN -> INT32_MIN */
    return (f > -2147483520.0f && f < 2147483520.0f) ? (int32_t)nearbyintf(f) : INT32_MIN;
}

/* ---- One element at a time: the definition, and the path on CPUs without AVX2. ---- */
static inline float dequant_signed(uint8_t q, const float* t) {   /* code 127 is 0; P = |q - 127| codes away, j = 2P + 1 */
    int32_t d = (int32_t)q - 127;
    float j = (float)(2 * (d < 0 ? -d : d) + 1);
    int c = (bits_of(j) >> 23) & 7;
    float v = fmaf(j, t[DB + c], t[DA + c]);
    return d < 0 ? -v : v;
}
static inline float dequant_unsigned(uint8_t q, const float* t) { /* j = q + 1 */
    float j = (float)(q + 1);
    int c = (bits_of(j) >> 23) & 7;
    return fmaf(j, t[DB + c], t[DA + c]);
}
static inline int32_t clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }
typedef struct { int32_t th[8]; float qb[8]; float g0; } block_map;   /* thresholds as ordered int bits, slopes / absmax */
static inline block_map make_block_map(const float* t, float absmax) {
    block_map b; const float r = 1.0f / absmax;
    for (int k = 0; k < 8; k++) { b.th[k] = bits_of(t[T + k] * absmax); b.qb[k] = t[QB + k] * r; }
    b.g0 = fmaf(-(float)bits_of(absmax), t[G], t[G + 1]);
    return b;
}
/* How many of the 8 thresholds lie below |x|? A float's bits, read as an integer, are ~ 2^23 (log2|x| + 127), so an
   affine function of them guesses the count to within one (c or c - 1); one comparison settles it. */
static inline int32_t position(int32_t axi, const float* t, const block_map* b, int32_t* count) {
    int32_t a = clamp((int32_t)fmaf((float)axi, t[G], b->g0), 0, 7);
    int c = a + (axi > b->th[a]);                                 /* non-negative floats order like their bits */
    *count = c;                                                   /* 0 .. 8; classes 0 and 8 share a table entry */
    return round_to_int(fmaf(float_of(axi), b->qb[c & 7], t[QC + (c & 7)]));
}
static inline uint8_t quant_signed(float x, const float* t, const block_map* b) {
    int32_t xi = bits_of(x), n, P = position(xi & 0x7FFFFFFF, t, b, &n);
    P = P < (1 << n) - 1 ? P : (1 << n) - 1;                      /* decade n-1 holds P in [2^(n-1), 2^n) */
    return (uint8_t)clamp(127 + (xi < 0 ? -P : P), 0, 255);     /* no code -1.0: -128 saturates to -0.993 */
}
static inline uint8_t quant_unsigned(float x, const float* t, const block_map* b) {
    int32_t xi = bits_of(x), n, P = position(xi, t, b, &n);
    return (uint8_t)(P < (2 << n) - 2 ? P : (2 << n) - 2);       /* decade n-1 holds P in [2^n - 1, 2^(n+1) - 2] */
}

static void block_8bit_scalar(const tensor_t* w, float* p, const float* g, uint8_t* q1, uint8_t* q2, float* a1, float* a2,
                              const float* t1, const float* t2) {
    float m[BS], v[BS], mx1 = 0.0f, mx2 = 0.0f;
    const float k1 = *a1 * w->b1, k2 = *a2 * w->b2, ob1 = 1.0f - w->b1, ob2 = 1.0f - w->b2, ic2 = 1.0f / w->c2;
    const float decay = 1.0f - w->lr * w->wd, step = w->lr / w->c1;
    for (int i = 0; i < BS; i++) {                                /* dequantize, AdamW in fp32 */
        float gi = g[i];
        float mi = fmaf(dequant_signed(q1[i], t1), k1, gi * ob1);
        float vi = fmaf(dequant_unsigned(q2[i], t2), k2, (gi * gi) * ob2);
        p[i] = fmaf(-step, mi / fmaf(sqrtf(vi), ic2, w->eps), p[i] * decay);
        m[i] = mi; v[i] = vi;
        mx1 = fmaxf(mx1, fabsf(mi)); mx2 = fmaxf(mx2, vi);
    }
    const block_map b1 = make_block_map(t1, mx1 > 0.0f ? mx1 : 1.0f), b2 = make_block_map(t2, mx2 > 0.0f ? mx2 : 1.0f);
    for (int i = 0; i < BS; i++) { q1[i] = quant_signed(m[i], t1, &b1); q2[i] = quant_unsigned(v[i], t2, &b2); }
    *a1 = mx1; *a2 = mx2;
}

/* ---- AVX2: the same operations on 8 lanes, so the same bits. An 8-entry table lookup is one in-register permute. ---- */
#if defined(__AVX2__) && defined(__FMA__) && !defined(PRETRAIN_NB_SCALAR)
#include <immintrin.h>
#define I2F _mm256_castsi256_ps
#define F2I _mm256_castps_si256
static inline __m256 lookup8(const float* table, __m256i c) { return _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), c); }
static inline __m256 dequant_signed8(__m256i q, const float* t) {
    __m256i d = _mm256_sub_epi32(q, _mm256_set1_epi32(127));
    __m256 j = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_abs_epi32(d), 1), _mm256_set1_epi32(1)));
    __m256i c = _mm256_srli_epi32(F2I(j), 23);                   /* the permute reads the low 3 bits */
    __m256 v = _mm256_fmadd_ps(j, lookup8(t + DB, c), lookup8(t + DA, c));
    return _mm256_or_ps(v, _mm256_and_ps(I2F(d), I2F(_mm256_set1_epi32(INT32_MIN))));
}
static inline __m256 dequant_unsigned8(__m256i q, const float* t) {
    __m256 j = _mm256_cvtepi32_ps(_mm256_add_epi32(q, _mm256_set1_epi32(1)));
    __m256i c = _mm256_srli_epi32(F2I(j), 23);
    return _mm256_fmadd_ps(j, lookup8(t + DB, c), lookup8(t + DA, c));
}
typedef struct { __m256i th; __m256 qb, qc, g, g0; } block_map8;
static inline block_map8 make_block_map8(const float* t, float absmax) {
    block_map b = make_block_map(t, absmax); block_map8 b8;
    b8.th = _mm256_loadu_si256((const __m256i*)b.th);
    b8.qb = _mm256_loadu_ps(b.qb); b8.qc = _mm256_loadu_ps(t + QC);
    b8.g = _mm256_set1_ps(t[G]); b8.g0 = _mm256_set1_ps(b.g0);
    return b8;
}
static inline __m256i position8(__m256i axi, const block_map8* b, __m256i* count) {
    __m256i a = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_cvtepi32_ps(axi), b->g, b->g0));
    a = _mm256_max_epi32(a, _mm256_setzero_si256());              /* |x| <= absmax keeps the guess below 8 */
    __m256i c = _mm256_sub_epi32(a, _mm256_cmpgt_epi32(axi, _mm256_permutevar8x32_epi32(b->th, a)));
    *count = c;
    return _mm256_cvtps_epi32(_mm256_fmadd_ps(I2F(axi), _mm256_permutevar8x32_ps(b->qb, c), _mm256_permutevar8x32_ps(b->qc, c)));
}
static inline __m256i quant_signed8(__m256 x, const block_map8* b) {
    __m256i xi = F2I(x), n, P = position8(_mm256_and_si256(xi, _mm256_set1_epi32(0x7FFFFFFF)), b, &n);
    P = _mm256_min_epi32(P, _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), n), _mm256_set1_epi32(1)));
    return _mm256_add_epi32(_mm256_sign_epi32(P, xi), _mm256_set1_epi32(127));   /* -P where x < 0 (P = 0 where x = 0) */
}
static inline __m256i quant_unsigned8(__m256 x, const block_map8* b) {
    __m256i xi = F2I(x), n, P = position8(xi, b, &n);
    return _mm256_min_epi32(P, _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(2), n), _mm256_set1_epi32(2)));
}
static inline void store_codes32(uint8_t* q, __m256i a, __m256i b, __m256i c, __m256i d) {   /* saturating: -1 -> 0 */
    __m256i r = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
    _mm256_storeu_si256((__m256i*)q, _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}
static inline float hmax8(__m256 x) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m)); m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
static void block_8bit(const tensor_t* w, float* p, const float* g, uint8_t* q1, uint8_t* q2, float* a1, float* a2,
                       const float* t1, const float* t2) {
    float m[BS] __attribute__((aligned(32))), v[BS] __attribute__((aligned(32)));
    const __m256 k1 = _mm256_set1_ps(*a1 * w->b1), k2 = _mm256_set1_ps(*a2 * w->b2);
    const __m256 ob1 = _mm256_set1_ps(1.0f - w->b1), ob2 = _mm256_set1_ps(1.0f - w->b2), ic2 = _mm256_set1_ps(1.0f / w->c2);
    const __m256 eps = _mm256_set1_ps(w->eps), decay = _mm256_set1_ps(1.0f - w->lr * w->wd), step = _mm256_set1_ps(w->lr / w->c1);
    const __m256 abs_mask = I2F(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 mx1 = _mm256_setzero_ps(), mx2 = _mm256_setzero_ps();
    for (int i = 0; i < BS; i += 8) {
        __m256 c1 = dequant_signed8(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(q1 + i))), t1);
        __m256 c2 = dequant_unsigned8(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(q2 + i))), t2);
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 mi = _mm256_fmadd_ps(c1, k1, _mm256_mul_ps(gi, ob1));
        __m256 vi = _mm256_fmadd_ps(c2, k2, _mm256_mul_ps(_mm256_mul_ps(gi, gi), ob2));
        __m256 u = _mm256_div_ps(mi, _mm256_fmadd_ps(_mm256_sqrt_ps(vi), ic2, eps));
        _mm256_storeu_ps(p + i, _mm256_fnmadd_ps(step, u, _mm256_mul_ps(_mm256_loadu_ps(p + i), decay)));
        _mm256_store_ps(m + i, mi); _mm256_store_ps(v + i, vi);
        mx1 = _mm256_max_ps(mx1, _mm256_and_ps(mi, abs_mask)); mx2 = _mm256_max_ps(mx2, vi);
    }
    const float x1 = hmax8(mx1), x2 = hmax8(mx2);
    const block_map8 b1 = make_block_map8(t1, x1 > 0.0f ? x1 : 1.0f), b2 = make_block_map8(t2, x2 > 0.0f ? x2 : 1.0f);
    for (int i = 0; i < BS; i += 32)
        store_codes32(q1 + i, quant_signed8(_mm256_load_ps(m + i), &b1), quant_signed8(_mm256_load_ps(m + i + 8), &b1),
                      quant_signed8(_mm256_load_ps(m + i + 16), &b1), quant_signed8(_mm256_load_ps(m + i + 24), &b1));
    for (int i = 0; i < BS; i += 32)
        store_codes32(q2 + i, quant_unsigned8(_mm256_load_ps(v + i), &b2), quant_unsigned8(_mm256_load_ps(v + i + 8), &b2),
                      quant_unsigned8(_mm256_load_ps(v + i + 16), &b2), quant_unsigned8(_mm256_load_ps(v + i + 24), &b2));
    *a1 = x1; *a2 = x2;
}
#else
#define block_8bit block_8bit_scalar
#endif

static void block_32bit(const tensor_t* w, float* restrict p, const float* restrict g, float* restrict m, float* restrict v, int len) {
    const float ob1 = 1.0f - w->b1, ob2 = 1.0f - w->b2, ic2 = 1.0f / w->c2;
    const float decay = 1.0f - w->lr * w->wd, step = w->lr / w->c1;
    for (int i = 0; i < len; i++) {
        float gi = g[i];
        float mi = fmaf(m[i], w->b1, gi * ob1), vi = fmaf(v[i], w->b2, (gi * gi) * ob2);
        p[i] = fmaf(-step, mi / fmaf(sqrtf(vi), ic2, w->eps), p[i] * decay);
        m[i] = mi; v[i] = vi;
    }
}

static void block_update(const tensor_t* w, int64_t b, const float* t1, const float* t2) {
    const int64_t s = b * BS; const int len = (int)(w->n - s < BS ? w->n - s : BS);
    if (!w->a1) { block_32bit(w, w->p + s, w->g + s, (float*)w->s1 + s, (float*)w->s2 + s, len); return; }
    uint8_t* q1 = (uint8_t*)w->s1 + s; uint8_t* q2 = (uint8_t*)w->s2 + s;
    if (len == BS) { block_8bit(w, w->p + s, w->g + s, q1, q2, w->a1 + b, w->a2 + b, t1, t2); return; }
    float p[BS], g[BS]; uint8_t c1[BS], c2[BS];                  /* the last, partial block: pad with zeros */
    memset(g, 0, sizeof g); memset(p, 0, sizeof p); memset(c1, 127, BS); memset(c2, 0, BS);
    memcpy(p, w->p + s, len * 4); memcpy(g, w->g + s, len * 4); memcpy(c1, q1, len); memcpy(c2, q2, len);
    block_8bit(w, p, g, c1, c2, w->a1 + b, w->a2 + b, t1, t2);
    memcpy(w->p + s, p, len * 4); memcpy(q1, c1, len); memcpy(q2, c2, len);
}

/* One optimizer step over many tensors: their 256-element blocks are shared out among the threads. */
void adamw8bit_step(const tensor_t* ts, int64_t nt, const float* t1, const float* t2, int threads) {
    int64_t first[nt + 1]; first[0] = 0;
    for (int64_t k = 0; k < nt; k++) first[k + 1] = first[k] + (ts[k].n + BS - 1) / BS;
    #pragma omp parallel num_threads(threads)
    {
        int64_t k = 0;
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < first[nt]; b++) {
            while (b >= first[k + 1]) k++;                        /* a thread's blocks come in order (static schedule) */
            block_update(&ts[k], b - first[k], t1, t2);
        }
    }
}

/* For tests: the kernel's own quantization (whole blocks: n a multiple of 256) and code values. */
void quantize_blocks(const float* x, int64_t n, uint8_t* q, float* absmax, const float* t, int is_signed) {
    for (int64_t s = 0; s < n; s += BS) {
        float mx = 0.0f;
        for (int i = 0; i < BS; i++) mx = fmaxf(mx, fabsf(x[s + i]));
        block_map b = make_block_map(t, mx > 0.0f ? mx : 1.0f);
        for (int i = 0; i < BS; i++) q[s + i] = is_signed ? quant_signed(x[s + i], t, &b) : quant_unsigned(x[s + i], t, &b);
        absmax[s / BS] = mx;
    }
}
void dequantize_codes(const uint8_t* q, int64_t n, float* out, const float* t, int is_signed) {
    for (int64_t i = 0; i < n; i++) out[i] = is_signed ? dequant_signed(q[i], t) : dequant_unsigned(q[i], t);
}
