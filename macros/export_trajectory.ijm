// Diffusion XAI - export a denoising trajectory as OME-TIFF: every plane carries its step, timestep t, alpha_cumprod
// and sigma, the file the run's provenance; Fiji/Bio-Formats, napari, QuPath and Python's tifffile open it.
// Headless: ImageJ-linux64 --headless -batch export_trajectory.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Export Trajectory" "image=.../trajectory.tif output=.../trajectory.ome.tif"
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Export Trajectory" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "export";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// A trajectory to export: Synthesize keeps every 5th step (and the predicted noise) as the hyperstack "Trajectory".
// (With output=<folder>, Synthesize itself also writes trajectory.ome.tif.)
run("Synthesize", "model=sample samples=2 steps=20 sampler=DDIM seed=1 keep_every=5 keep_noise device=cpu");

// image        the trajectory: an open image's title, or trajectory.tif / trajectory.ome.tif on disk
// output       the OME-TIFF file to write; its name ends in .ome.tif
// compression  none or deflate (lossless)
// writer       diffxai (default: per-plane timesteps and provenance) or bioformats (Fiji's Bio-Formats Exporter)
run("Export Trajectory", "image=Trajectory output=[" + outputDir + File.separator + "trajectory.ome.tif]"
    + " compression=deflate writer=diffxai");

print("Trajectory exported to " + outputDir + File.separator + "trajectory.ome.tif");
setBatchMode(false);
