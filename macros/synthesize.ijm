// Diffusion XAI - synthesize MRI slices with a diffusion model and keep the denoising trajectory.
// Headless: ImageJ-linux64 --headless -batch synthesize.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Synthesize" "model=sample samples=4 steps=50 sampler=DDIM output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Synthesize" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "synthesis";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// model       "sample" (bundled) or a bundle folder, e.g. from train_denoiser.ijm
// samples     images to make                steps      denoising steps
// sampler     DDIM or DDPM                  eta        DDIM noise: 0 = deterministic, 1 = DDPM-like
// seed        sample i uses noise stream (seed, i), so results repeat
// label       class name or index for class-conditional models; [] = cycle through the classes
// condition   mask channels: an open image's title or a file; [] = none
// init        optional float32 TIFF with the starting noise x_T; [] = drawn from seed
// keep_every  keep every k-th step as trajectory (plus first and last); 0 = none
// batch       samples per model call        device     auto, cpu or gpu
// keep_noise  flag: also keep the predicted noise eps_pred as a third trajectory channel
// output      folder for samples.tif, trajectory.tif, trajectory.ome.tif, synthesis.csv and synthesis.json
run("Synthesize", "model=sample samples=4 steps=50 sampler=DDIM eta=0 seed=0 label=[] condition=[] init=[]"
    + " keep_every=10 batch=4 device=cpu output=[" + outputDir + "] overwrite");

print("Synthesized " + nImages + " image(s); files in " + outputDir);
setBatchMode(false);
