// Diffusion XAI - how faithful is an explanation to the classifier? Removes the pixels the explanation ranks high
// and measures what the classifier loses (metrics and formulas: docs/faithfulness.md).
// Headless: ImageJ-linux64 --headless -batch faithfulness_score.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Faithfulness Score" "model=... image=... attribution=prototypes output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Faithfulness Score" --help

// ---- the classifier (change this): "sample-ppnet" (bundled) or a bundle folder; any classifier bundle works ----
model = "sample-ppnet";
imageSize = 64; // the model's input size

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "faithfulness";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// Images to score (2 phantoms per class): any open image or image file of the model's size; every slice is one image.
run("Generate Phantoms", "count=2 size=" + imageSize + " seed=5 classes=healthy,lesion contrast=T1 output=[]");

// model         "sample-ppnet" or a classifier bundle folder (prototype networks get the prototype metrics too)
// image         open image (title) or file        attribution  open image or file (one map per slice),
//                                                              or prototypes: the prototype network's own map
// target        class name or index; [] = each image's predicted class
// metric        all, faithfulness_correlation, deletion, insertion, monotonicity, region_perturbation,
//               prototype_perturbation or nis
// baseline      what removed pixels become: blur (default), zero, min, mean
// runs          random subsets of faithfulness_correlation    subset_size  pixels per subset (0 = image width)
// step          pixels per deletion/insertion step (0 = image width)    patch_size  region side (0 = size/16)
// seed          same seed, same numbers               top    prototypes tested by prototype_perturbation
// references    images whose features are the NIS references; [] = the prototype vectors
// output        folder for faithfulness.csv, faithfulness_curves.csv, faithfulness.json, faithfulness_*.png
run("Faithfulness Score", "model=[" + model + "] image=Phantoms attribution=prototypes target=[] metric=all"
    + " baseline=blur runs=100 subset_size=0 step=0 patch_size=0 seed=0 top=10 references=[] batch=32"
    + " device=cpu output=[" + outputDir + "] overwrite");

// One row per image and metric, then the mean of each metric with its bootstrap 95 % interval.
print(File.openAsString(outputDir + File.separator + "faithfulness.csv"));
setBatchMode(false);
