// Diffusion XAI - synthesize explanation: images the classifier finds most typical of a class (or most like one
// prototype), made by steering the diffusion model with the classifier's gradient, beside unguided samples with the
// same seeds (classifier guidance, Dhariwal & Nichol 2021, on the predicted clean image).
// Headless: ImageJ-linux64 --headless -batch synthesize_explanation.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Synthesize Explanation" "model=/path/to/classifier target=lesion output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Synthesize Explanation" --help

// ---- change these ----
classifier = "/path/to/classifier";   // a classifier bundle that gives gradients (e.g. TorchScript model.pt)
outputDir = getDirectory("temp") + "diffxai" + File.separator + "synthesize_explanation";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// model      the classifier to explain (must give input gradients)
// denoiser   "sample" (bundled) or a denoiser bundle folder of the classifier's image size and classes
// target     class to maximise (name or index); prototype  a prototype's index to maximise its score, -1 = class
// scale      guidance scale (0 = unguided); samples  image pairs; steps  DDIM steps; seed  noise seed
// check      a second classifier that did not guide (e.g. sample-eppnet) scores every sample; [] = none
// output     folder for explanation_samples.tif, explanation.csv, explanation_steps.csv and explanation.json
run("Synthesize Explanation", "model=[" + classifier + "] denoiser=sample target=lesion prototype=-1 scale=10"
    + " samples=4 steps=50 seed=0 batch=8 check=[] device=cpu output=[" + outputDir + "] overwrite");

// The result is the active image: slices alternate unguided / guided for the same seed.
print("Synthesized explanation: " + nSlices + " slices; written to " + outputDir);
setBatchMode(false);
