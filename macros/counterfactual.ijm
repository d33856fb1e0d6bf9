// Diffusion XAI - counterfactual: what would have to change in an image for the classifier to decide the other
// class. Each slice is noised to a depth of the denoiser's schedule and denoised with the classifier's gradient towards
// the target class plus an L1 pull towards the input, stopping when the classifier flips (DiME, Jeanneret et al. 2022).
// Headless: ImageJ-linux64 --headless -batch counterfactual.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Counterfactual" "image=slice.tif model=/path/to/classifier output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Counterfactual" --help

// ---- change these ----
classifier = "/path/to/classifier";   // a classifier bundle that gives gradients (e.g. TorchScript model.pt)
outputDir = getDirectory("temp") + "diffxai" + File.separator + "counterfactual";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// Something to change: two phantom slices per class, the stack "Phantoms".
run("Generate Phantoms", "count=2 size=64 seed=5 classes=healthy,lesion contrast=T1 output=[]");

// image      an open image's title, an image file or a folder; [] = the active image
// model      the classifier to explain (must give input gradients)
// denoiser   "sample" (bundled) or a denoiser bundle folder of the same image size and classes
// target     class to turn each slice into; [] = the other class of its prediction (two-class models)
// depth      noise depth, fraction of the schedule (0.3 small edits ... 0.7 large edits)
// scale      guidance scale; closeness  weight of the L1 distance to the input
// steps      steps of the full schedule (about depth x steps run); seed  noise seed
// check      a second classifier that did not guide (e.g. sample-eppnet) scores every counterfactual; [] = none
// output     folder for counterfactuals.tif, difference.tif, counterfactual.csv, counterfactual_steps.csv and .json
run("Counterfactual", "image=Phantoms model=[" + classifier + "] denoiser=sample target=[] depth=0.3 scale=10"
    + " closeness=0.05 steps=50 seed=0 batch=8 check=[] device=cpu output=[" + outputDir + "] overwrite");

print("Counterfactuals written to " + outputDir);
setBatchMode(false);
