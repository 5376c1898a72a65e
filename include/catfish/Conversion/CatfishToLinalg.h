//===- CatfishToLinalg.h - catfish ops -> linalg on tensors -----*- C++ -*-===//
#ifndef CATFISH_CONVERSION_CATFISHTOLINALG_H
#define CATFISH_CONVERSION_CATFISHTOLINALG_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::catfish {

/// Patterns rewriting catfish ops into linalg, tensor, arith, math and scf ops on tensors.
/// Each group lives in its own file under lib/Conversion/CatfishToLinalg.
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
/// `scatterAsSelections`: see catfish-convert-to-linalg's option of that name.
void populateDataMovementToLinalgPatterns(RewritePatternSet &patterns, bool scatterAsSelections);
void populateReductionToLinalgPatterns(RewritePatternSet &patterns);
void populateStructuredToLinalgPatterns(RewritePatternSet &patterns);
void populateQuantizationToLinalgPatterns(RewritePatternSet &patterns);
void populateResamplingToLinalgPatterns(RewritePatternSet &patterns);
/// NonZero, Unique, NonMaxSuppression, Det: sequential loop nests in kernels marked
/// kSequentialKernel.
void populateSequentialToLinalgPatterns(RewritePatternSet &patterns);

/// Unit attribute of a kernel function whose loops must run in order (each step's output
/// position depends on all earlier steps): the CUDA target runs it on one thread.
inline constexpr llvm::StringLiteral kSequentialKernel = "catfish.sequential";

/// All of the above, and the dialects they produce marked legal in `target`.
void populateCatfishToLinalgConversion(RewritePatternSet &patterns, ConversionTarget &target,
                                       bool scatterAsSelections);

} // namespace mlir::catfish

#endif // CATFISH_CONVERSION_CATFISHTOLINALG_H
