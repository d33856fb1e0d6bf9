// Diffusion XAI - optimise conditioning: moves the denoiser's learned class embedding by gradient ascent on a
// classifier's class log-probability (through a few deterministic DDIM steps), kept near the learned embedding by
// lambda*||e - e0||^2, and shows the images of the learned and of the optimised embedding for the same noise
// (the DiffExplainer analogue without text, Pennisi et al. 2024).
// Headless: ImageJ-linux64 --headless -batch optimise_conditioning.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Optimise Conditioning" "model=sample-ppnet target=lesion output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Optimise Conditioning" --help

// ---- change these ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "optimise_conditioning";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// model      the classifier (must give input gradients); denoiser  "sample" or a bundle written by Train Denoiser
// target     class whose log-probability to maximise; label  denoiser class to start from (empty = same name)
// lambda     weight of the closeness term; learning_rate  Adam step; iterations  ascent steps
// steps      DDIM steps the gradient goes through; samples  noises averaged over; seed  noise seed
// output     folder for conditioning_samples.tif, conditioning.csv, conditioning_samples.csv,
//            conditioning_embeddings.csv, conditioning_objective.png and conditioning.json
run("Optimise Conditioning", "model=sample-ppnet denoiser=sample target=lesion label=[] lambda=0.01"
    + " learning_rate=0.05 iterations=10 steps=10 samples=2 seed=0 device=cpu output=[" + outputDir + "] overwrite");

// The objective plot is the active image; the stack alternates learned / optimised embedding for the same noise.
selectImage("Optimised conditioning");
print("Optimised conditioning: " + nSlices + " slices; written to " + outputDir);
setBatchMode(false);
