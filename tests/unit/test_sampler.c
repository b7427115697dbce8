/* Sampler: greedy, determinism under a seed, each filter's effect, and the
 * drawn distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sampler.h"

#define V 1000

static void fill(float *l, uint64_t seed) {
    for (int i = 0; i < V; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        l[i] = (float)((seed >> 40) % 10000) / 1000.0f;
    }
}

static int32_t draw(sampler_params p, const float *src, const int32_t *recent, int n_recent, int times, int32_t *out) {
    sampler *s;
    if (sampler_create(&s, &p, V, NULL)) return -1;
    float l[V];
    for (int i = 0; i < times; i++) {
        memcpy(l, src, sizeof l);
        out[i] = sampler_sample(s, l, recent, n_recent);
    }
    sampler_free(s);
    return 0;
}

/* argmax against the plain loop (first strictly greater value) on rows
 * with ties, NaNs, signed zeros and infinities, of every length to 40. */
static void test_argmax(void) {
    uint64_t seed = 99;
    int bad = 0, cases = 0;
    static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, 2.0f};
    for (int n = 0; n <= 40; n++)
        for (int rep = 0; rep < 200; rep++, cases++) {
            float v[40];
            for (int i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                v[i] = specials[(seed >> 33) % 8];
            }
            int32_t want = 0;
            for (int i = 1; i < n; i++)
                if (v[i] > v[want]) want = i;
            const int32_t got = argmax(v, n);
            if (got != want && bad++ < 5) printf("# argmax n %d: %d, the loop %d\n", n, got, want);
        }
    CHECK("argmax: the plain loop's index on ties, NaNs, signed zeros, infinities", bad == 0, "%d of %d cases",
          bad, cases);
}

int main(void) {
    test_argmax();
    float logits[V];
    fill(logits, 7);
    int32_t best = argmax(logits, V);
    sampler_params p;
    sampler_defaults(&p);

    int32_t a[64], b[64], c[64];
    p.temperature = 0;
    draw(p, logits, NULL, 0, 1, a);
    CHECK("greedy picks the argmax", a[0] == best, "%d vs %d", a[0], best);

    sampler_defaults(&p);
    p.temperature = 1.5f;
    p.top_k = 0;
    p.min_p = 0;
    p.top_p = 1;
    p.seed = 42;
    draw(p, logits, NULL, 0, 64, a);
    draw(p, logits, NULL, 0, 64, b);
    p.seed = 43;
    draw(p, logits, NULL, 0, 64, c);
    CHECK("same seed, same draws", memcmp(a, b, sizeof a) == 0, "differ");
    CHECK("another seed, other draws", memcmp(a, c, sizeof a) != 0, "identical");

    sampler_defaults(&p);
    p.top_k = 1;
    p.temperature = 5;
    draw(p, logits, NULL, 0, 16, a);
    int all_best = 1;
    for (int i = 0; i < 16; i++) all_best &= a[i] == best;
    CHECK("top-k 1 is greedy", all_best, "drew others");

    sampler_defaults(&p);
    p.top_k = 5;
    p.temperature = 100;
    p.min_p = 0;
    p.top_p = 1;
    draw(p, logits, NULL, 0, 64, a);
    /* the 5th best logit */
    float sorted[V];
    memcpy(sorted, logits, sizeof sorted);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < V; j++)
            if (sorted[j] > sorted[i]) {
                float t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    int within = 1;
    for (int i = 0; i < 64; i++) within &= logits[a[i]] >= sorted[4];
    CHECK("top-k keeps only the k best", within, "drew outside the top 5");

    /* A clear distribution: p = 0.5, 0.3, 0.2 over three tokens. */
    float three[V];
    for (int i = 0; i < V; i++) three[i] = -1e9f;
    three[10] = logf(0.5f);
    three[20] = logf(0.3f);
    three[30] = logf(0.2f);
    sampler_defaults(&p);
    p.temperature = 1;
    p.top_k = 0;
    p.top_p = 1;
    p.min_p = 0;
    p.seed = 1;
    int counts[3] = {0};
    int32_t *many = malloc(20000 * sizeof *many);
    draw(p, three, NULL, 0, 20000, many);
    for (int i = 0; i < 20000; i++) counts[many[i] == 10 ? 0 : many[i] == 20 ? 1 : 2]++;
    CHECK("draws follow the distribution", fabs(counts[0] / 20000.0 - 0.5) < 0.02 && fabs(counts[1] / 20000.0 - 0.3) < 0.02,
          "%d %d %d", counts[0], counts[1], counts[2]);

    p.top_p = 0.6f;
    draw(p, three, NULL, 0, 2000, many);
    int only_two = 1;
    for (int i = 0; i < 2000; i++) only_two &= many[i] == 10 || many[i] == 20;
    CHECK("top-p 0.6 keeps the two best of 0.5/0.3/0.2", only_two, "drew the third");

    p.top_p = 1;
    p.min_p = 0.5f;
    draw(p, three, NULL, 0, 2000, many);
    int min_ok = 1;
    for (int i = 0; i < 2000; i++) min_ok &= many[i] == 10 || many[i] == 20;
    CHECK("min-p 0.5 drops tokens below half the best", min_ok, "drew the third");

    sampler_defaults(&p);
    p.temperature = 0;
    p.repeat_penalty = 100;
    int32_t recent[1] = {10};
    draw(p, three, recent, 1, 1, a);
    CHECK("repetition penalty moves greedy off a repeated token", a[0] == 20, "picked %d", a[0]);
    free(many);

    sampler_defaults(&p);
    p.top_p = 0;
    CHECK("invalid top-p is rejected", sampler_validate(&p, NULL) != HEARTH_OK, "accepted");
    sampler_defaults(&p);
    p.temperature = -1;
    CHECK("negative temperature is rejected", sampler_validate(&p, NULL) != HEARTH_OK, "accepted");
    CHECK_DONE();
}
