// Diffusion XAI - how an image forms along its denoising trajectory, as numbers: one table row per kept step (step,
// t, alpha_cumprod, sigma, mean and sd of x_t, mean |eps_pred|, PSNR and SSIM of x0_pred against the final sample,
// change of x0_pred since the previous kept step) and a plot of them against the timestep.
// Headless: ImageJ-linux64 --headless -batch trajectory_profile.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Trajectory Profile" "image=.../trajectory.ome.tif output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Trajectory Profile" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "profile";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// A trajectory to profile: every 2nd of 20 DDIM steps, with the predicted noise.
run("Synthesize", "model=sample samples=2 steps=20 sampler=DDIM seed=1 keep_every=2 keep_noise device=cpu");

// image   the trajectory: an open image's title, or trajectory.tif / trajectory.ome.tif on disk
// sample  1-based sample to profile; 0 = all samples together
// output  folder for trajectory_profile.csv and trajectory_profile.png
run("Trajectory Profile", "image=Trajectory sample=0 output=[" + outputDir + "] overwrite");

// The table is open as "Trajectory Profile"; its first row is the noisiest kept step.
print("Kept steps profiled: " + Table.size("Trajectory Profile"));
print("SSIM of x0_pred against the final sample at t=" + Table.get("t", 0, "Trajectory Profile") + ": "
    + d2s(Table.get("x0_ssim", 0, "Trajectory Profile"), 3));
setBatchMode(false);
