package io.progrpo.world.scene;

import java.util.List;
import java.util.Objects;

/**
 * What a rendering shows: a background and objects, geometry in fractions of the side.
 *
 * @param noise seed of the per-pixel noise on the objects
 */
public record Scene(Background background, List<PlacedObject> objects, long noise) {
    public Scene {
        Objects.requireNonNull(background, "background");
        objects = List.copyOf(Objects.requireNonNull(objects, "objects"));
    }
}
