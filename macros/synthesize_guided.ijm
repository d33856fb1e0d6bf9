// Diffusion XAI - synthesize MRI slices steered by a classifier (classifier guidance), keeping the trajectory.
// The same command as synthesize.ijm with a guidance classifier: every step's predicted clean image is pushed
// towards what the classifier finds most "lesion" (or most like one prototype); see docs/guidance.md.
// Headless: ImageJ-linux64 --headless -batch synthesize_guided.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Synthesize" "model=sample guidance=sample-ppnet guidance_class=lesion output=..."

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "synthesis_guided";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// guidance            classifier that steers (must give input gradients): sample-ppnet or a bundle folder
// guidance_class      class to maximise (name or index); [] = the label
// guidance_prototype  prototype whose score to maximise instead; -1 = the class's log-probability
// guidance_scale      strength of the classifier gradient (10 drives sample-ppnet's class probability to ~1)
// label               class of a class-conditional denoiser; [] = the guided class
// The table gets p_lesion_calibrated (the classifier's calibrated probability of each final sample) and
// objective_last_step; synthesis.json records the guidance; the trajectory's x0_pred is the guided estimate.
run("Synthesize", "model=sample samples=4 steps=50 sampler=DDIM eta=0 seed=0 label=[] keep_every=10 batch=4"
    + " guidance=sample-ppnet guidance_class=lesion guidance_prototype=-1 guidance_scale=10 device=cpu"
    + " output=[" + outputDir + "] overwrite");

print("Synthesized " + nImages + " guided image(s); files in " + outputDir);
setBatchMode(false);
