//===- Calibration.cpp - activation ranges: minmax, percentile, entropy, mse ===//
//
// The calibrators follow onnxruntime.quantization's (calibrate.py) so that a model calibrated
// here gets the ranges onnxruntime would give it: MinMax exactly, Percentile (2048 bins,
// 99.999) and Entropy (128 bins, KL divergence over 128 quantized bins) to within a bin.
// MSE (onnxruntime has none; TensorRT Model Optimizer's "mse" is the same idea) picks the
// symmetric clip whose quantization has the least squared error over the histogram.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;

unsigned quantize::histogramBins(StringRef calibrator) {
  if (calibrator == "percentile")
    return 2048;
  if (calibrator == "entropy")
    return 128;
  if (calibrator == "mse")
    return 2048;
  return 0;
}

void TensorStatistics::addRange(ArrayRef<double> values) {
  for (double v : values) {
    if (!std::isfinite(v))
      continue;
    float x = static_cast<float>(v);
    if (!seen) {
      lowest = highest = x;
      smallestMagnitude = std::fabs(x);
      seen = true;
    }
    lowest = std::min(lowest, x);
    highest = std::max(highest, x);
    smallestMagnitude = std::min(smallestMagnitude, std::fabs(x));
  }
}

void TensorStatistics::startHistogram(unsigned bins, bool ofMagnitudes) {
  magnitudes = ofMagnitudes;
  float largest = std::max(std::fabs(lowest), std::fabs(highest));
  lo = magnitudes ? smallestMagnitude : -largest;
  hi = largest;
  // numpy widens an empty range by 0.5 on each side.
  if (lo == hi) {
    lo -= 0.5f;
    hi += 0.5f;
  }
  counts.assign(bins, 0);
}

float TensorStatistics::edge(size_t i) const {
  if (i == counts.size())
    return hi;
  float step = (hi - lo) / static_cast<float>(counts.size());
  return static_cast<float>(i) * step + lo;
}

void TensorStatistics::addToHistogram(ArrayRef<double> values) {
  // numpy.histogram's uniform-bin search, including its correction against the edges.
  auto n = static_cast<int64_t>(counts.size());
  double scale = static_cast<double>(n) / (static_cast<double>(hi) - lo);
  for (double v : values) {
    if (!std::isfinite(v))
      continue;
    float x = static_cast<float>(magnitudes ? std::fabs(v) : v);
    if (x < lo || x > hi)
      continue;
    auto index = static_cast<int64_t>((static_cast<double>(x) - lo) * scale);
    index = std::min(index, n - 1);
    if (x < edge(index))
      --index;
    else if (index != n - 1 && x >= edge(index + 1))
      ++index;
    ++counts[std::clamp<int64_t>(index, 0, n - 1)];
  }
}

std::pair<float, float> TensorStatistics::range(StringRef calibrator, double percentile,
                                                bool fp8) const {
  std::pair<float, float> picked = {lowest, highest};
  if (calibrator == "percentile")
    picked = percentileRange(percentile);
  else if (calibrator == "entropy")
    picked = entropyRange();
  else if (calibrator == "mse")
    picked = mseRange(fp8);
  // Never wider than what was seen.
  return {std::max(picked.first, lowest), std::min(picked.second, highest)};
}

std::pair<float, float> TensorStatistics::percentileRange(double percentile) const {
  // Symmetric, as onnxruntime's default: the magnitude below which `percentile` percent of
  // the values lie (the left edge of the bin where the cumulative fraction reaches it, as
  // numpy.searchsorted finds it), mirrored.
  double total = 0;
  for (int64_t c : counts)
    total += static_cast<double>(c);
  if (total == 0)
    return {lowest, highest};
  double cumulative = 0;
  size_t index = 0;
  for (; index < counts.size(); ++index) {
    cumulative += static_cast<double>(counts[index]) / total;
    if (cumulative >= percentile / 100.0)
      break;
  }
  float threshold = edge(index);
  return {-threshold, threshold};
}

/// onnxruntime's smooth_distribution: zeros become eps, taken from the non-zero bins.
static std::optional<std::vector<float>> smooth(ArrayRef<int64_t> p) {
  constexpr float eps = 0.0001f;
  size_t zeros = llvm::count(p, 0);
  size_t nonzeros = p.size() - zeros;
  if (nonzeros == 0)
    return std::nullopt;
  auto eps1 = static_cast<float>(eps * static_cast<double>(zeros) / static_cast<double>(nonzeros));
  std::vector<float> out(p.size());
  for (size_t i = 0; i < p.size(); ++i)
    out[i] = static_cast<float>(p[i]) + (p[i] == 0 ? eps : -eps1);
  return out;
}

/// KL(p || q) of the normalized distributions, in float as onnxruntime computes it.
static float klDivergence(ArrayRef<float> p, ArrayRef<float> q) {
  float sp = 0, sq = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    sp += p[i];
    sq += q[i];
  }
  float sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    float pi = p[i] / sp, qi = q[i] / sq;
    if (pi == 0 && qi >= 0)
      continue;
    if (!(pi > 0 && qi > 0))
      return std::numeric_limits<float>::infinity();
    sum += pi * std::log(pi / qi);
  }
  return sum;
}

std::pair<float, float> TensorStatistics::entropyRange() const {
  constexpr size_t quantizedBins = 128;
  size_t bins = counts.size();
  size_t zeroBin = bins / 2, halfQuantized = quantizedBins / 2;
  if (zeroBin < halfQuantized)
    return {lowest, highest};
  float best = std::numeric_limits<float>::infinity();
  std::pair<float, float> bestRange = {0, 0};
  bool found = false;
  for (size_t i = halfQuantized; i <= zeroBin; ++i) {
    size_t start = zeroBin - i, end = std::min(zeroBin + i + 1, bins);
    ArrayRef<int64_t> sliced = ArrayRef(counts).slice(start, end - start);
    // The reference p: the slice with the outliers folded into its end bins.
    std::vector<int64_t> p(sliced.begin(), sliced.end());
    for (size_t k = 0; k < start; ++k)
      p.front() += counts[k];
    for (size_t k = end; k < bins; ++k)
      p.back() += counts[k];
    // The candidate q: the slice merged into quantizedBins bins, spread back over the
    // non-zero bins of p (integer division, as onnxruntime's int64 array truncates).
    size_t merged = sliced.size() / quantizedBins;
    std::vector<int64_t> quantized(quantizedBins, 0);
    for (size_t b = 0; b < quantizedBins; ++b)
      for (size_t k = b * merged; k < (b + 1) * merged; ++k)
        quantized[b] += sliced[k];
    for (size_t k = quantizedBins * merged; k < sliced.size(); ++k)
      quantized.back() += sliced[k];
    std::vector<int64_t> q(p.size(), 0);
    for (size_t b = 0; b < quantizedBins; ++b) {
      int64_t norm = 0;
      for (size_t k = b * merged; k < (b + 1) * merged; ++k)
        norm += p[k] != 0;
      if (norm != 0)
        for (size_t k = b * merged; k < (b + 1) * merged; ++k)
          q[k] = quantized[b] / norm;
    }
    auto ps = smooth(p), qs = smooth(q);
    float divergence =
        ps && qs ? klDivergence(*ps, *qs) : std::numeric_limits<float>::infinity();
    if (!found || divergence < best) {
      best = divergence;
      bestRange = {edge(start), edge(end)};
      found = true;
    }
  }
  return bestRange;
}

std::pair<float, float> TensorStatistics::mseRange(bool fp8) const {
  // Clips [-t, t] (cut to what was seen) for t at every bin edge right of zero; each bin's
  // values are taken at its center. Ties keep the narrower clip.
  size_t bins = counts.size(), zeroBin = bins / 2;
  std::pair<float, float> bestRange = {lowest, highest};
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 1; i + zeroBin <= bins; ++i) {
    float t = edge(zeroBin + i);
    float low = std::max(-t, lowest), high = std::min(t, highest);
    ActivationParams p = fp8 ? fp8ActivationParams(low, high) : activationParams(low, high);
    double error = 0;
    for (size_t b = 0; b < bins && error < best; ++b) {
      if (counts[b] == 0)
        continue;
      double center = (static_cast<double>(edge(b)) + edge(b + 1)) / 2;
      double e = center - fakeQuantize(p, center, fp8);
      error += static_cast<double>(counts[b]) * e * e;
    }
    if (error < best) {
      best = error;
      bestRange = {low, high};
    }
  }
  return bestRange;
}

double quantize::fakeQuantize(const ActivationParams &p, double x, bool fp8) {
  if (fp8)
    return roundToE4M3(static_cast<float>(x) / p.scale) * p.scale;
  double q = std::clamp(std::nearbyint(x / p.scale) + p.zeroPoint, -128.0, 127.0);
  return (q - p.zeroPoint) * p.scale;
}

void Hessian::add(ArrayRef<double> values) {
  if (matrix.empty())
    matrix.assign(k * k, 0.0);
  for (size_t row = 0; row + k <= values.size(); row += k)
    for (int64_t i = 0; i < k; ++i) {
      double xi = values[row + i];
      if (xi == 0)
        continue;
      for (int64_t j = 0; j < k; ++j)
        matrix[i * k + j] += xi * values[row + j];
    }
}

ActivationParams quantize::activationParams(float rmin, float rmax) {
  // onnxruntime's compute_scale_zp for int8 [-128, 127]: the range includes 0, the scale is
  // computed in f64 and stored as f32, the zero point rounds half to even.
  ActivationParams params;
  params.rmin = std::min(rmin, 0.0f);
  params.rmax = std::max(rmax, 0.0f);
  double scale = static_cast<double>(params.rmax - params.rmin) / 255.0;
  if (!(scale >= static_cast<double>(std::numeric_limits<float>::min()))) {
    params.scale = 1;
    params.zeroPoint = 0;
    return params;
  }
  params.zeroPoint =
      static_cast<int32_t>(std::nearbyint(-128.0 - static_cast<double>(params.rmin) / scale));
  params.zeroPoint = std::clamp(params.zeroPoint, -128, 127);
  params.scale = static_cast<float>(scale);
  return params;
}
