package org.diffxai.run;

class PlantedShortcutTest {
}
