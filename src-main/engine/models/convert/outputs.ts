import type { OnnxGraphBuilder } from '../onnx/builder';

export interface ConvertOptions {
  /** The layer or node whose output is the feature map; nothing after it is converted. */
  stopAt: string;
  inputName: string;
  embeddingName: string;
  featuremapName: string;
}

/** Both converters end the same way: the feature map [N,C,h,w] and its global average [N,C]. */
export function addOutputs(b: OnnxGraphBuilder, featuremap: { name: string; shape: number[] }, options: ConvertOptions): void {
  const [channels, h, w] = featuremap.shape;
  b.node('Identity', [featuremap.name], {}, options.featuremapName);
  const pooled = b.node('GlobalAveragePool', [featuremap.name]);
  b.node('Flatten', [pooled], { axis: 1 }, options.embeddingName);
  b.output(options.featuremapName, ['batch', channels, h, w]);
  b.output(options.embeddingName, ['batch', channels]);
}
