import type { OnnxGraphBuilder } from '../onnx/builder';

export interface ConvertOptions {
  /** The layer or node whose output is the feature map; nothing after it is converted. */
  stopAt: string;
  inputName: string;
  embeddingName: string;
  featuremapName: string;
  /** An earlier layer or node whose map is also given, as the `cells` output (local evidence). */
  cellsAt?: string;
  cellsName: string;
}

/** Both converters end the same way: the feature map [N,C,h,w], its global average [N,C], and the cells' map if asked for. */
export function addOutputs(b: OnnxGraphBuilder, featuremap: { name: string; shape: number[] }, options: ConvertOptions, cells?: { name: string; shape: number[] }): void {
  const [channels, h, w] = featuremap.shape;
  if (cells) {
    b.node('Identity', [cells.name], {}, options.cellsName);
    b.output(options.cellsName, ['batch', ...cells.shape]);
  }
  b.node('Identity', [featuremap.name], {}, options.featuremapName);
  const pooled = b.node('GlobalAveragePool', [featuremap.name]);
  b.node('Flatten', [pooled], { axis: 1 }, options.embeddingName);
  b.output(options.featuremapName, ['batch', channels, h, w]);
  b.output(options.embeddingName, ['batch', channels]);
}
